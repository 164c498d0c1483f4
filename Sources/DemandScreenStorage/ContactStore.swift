public import DemandScreenAPI
import Foundation
public import ScreeningEngine
import SwiftProtobuf

/// What a Screen call answers with: the result, and its serialized form: the bytes the store
/// stored when no evidence excerpt could hold personal data (the usual case, so that the reply
/// does not serialize the result a second time), the unmasked result's otherwise, and the stored
/// bytes of a record screened before.
public struct ScreenAnswer: Sendable {
    public var result: ScreeningResult
    public var serialized: [UInt8]

    init(result: ScreeningResult, serialized: [UInt8]) {
        self.result = result
        self.serialized = serialized
    }

    /// The answer of a record stored before.
    init(stored bytes: [UInt8]) throws {
        self.init(result: try ScreeningResult(serializedBytes: bytes), serialized: bytes)
    }
}

/// The record of every contact and the claimant history built from it, over either SQL backend:
/// the append-only audit trail of screened records, per-claimant contacts, risk flags with their
/// evidence, and security staff's notes. Writes go through group commit; a call is answered only
/// after the transaction holding its contact has committed.
public final class ContactStore: Sendable {
    /// What the store knows about a record about to be screened.
    public enum Preparation: Sendable {
        /// The record id was screened before: answer with the stored result, store nothing.
        case alreadyScreened(ScreenAnswer)
        /// A new contact: screen it with this history, then `record` it.
        case newContact(ClaimantHistory)
    }

    /// A screened contact on its way to storage.
    public struct ScreenedContact: Sendable {
        public var record: DemandRecord
        public var result: ScreeningResult
        /// The contact's time: `received_at_unix_ms`, or the arrival time when that was 0.
        public var receivedAtUnixMs: Int64
        /// The authenticated client that sent it.
        public var client: String
        /// Whether personal data is masked before it is stored (the policy's `personalData`).
        public var maskPersonalData: Bool

        public init(record: DemandRecord, result: ScreeningResult, receivedAtUnixMs: Int64, client: String, maskPersonalData: Bool) {
            self.record = record
            self.result = result
            self.receivedAtUnixMs = receivedAtUnixMs
            self.client = client
            self.maskPersonalData = maskPersonalData
        }
    }

    public let database: any SQLDatabase
    private let committer: Batcher<Submission, ScreenAnswer>
    /// The history reads of the calls that arrive while one runs, made together by the next in
    /// a few set-based statements (`HistoryReads`).
    private let reader: Batcher<HistoryRequest, Preparation>

    struct Submission: Sendable {
        var contact: ScreenedContact
        var storedAtUnixMs: Int64
    }

    /// The most contacts written in one transaction.
    public static let maximumBatch = 256
    /// The most calls' history reads run in one read.
    static let maximumReadBatch = 64
    /// The most notes' characters.
    public static let maximumNoteLength = 4000

    /// Wraps an open database, bringing its schema up to date. With `groupCommit` false every
    /// contact gets its own transaction (for comparison in benchmarks). History reads are
    /// batched either way.
    public init(database: any SQLDatabase, groupCommit: Bool = true) async throws(StorageError) {
        self.database = database
        try await Schema.migrate(database, now: Self.now())
        let batch = groupCommit ? Self.maximumBatch : 1
        let statistics = database.dialect == .postgres ? PlannerStatistics(database: database) : nil
        let known = KnownComplaints()
        committer = Batcher(maximumBatch: batch) { submissions in
            let answers = try await Self.write(submissions, to: database)
            statistics?.noteWritten(submissions.count)
            known.insert(
                submissions.lazy.map { Complaint($0.contact.record.incident) }.filter(\.isComparable).map(\.comparedAs))
            return answers
        }
        reader = Batcher(maximumBatch: Self.maximumReadBatch) { requests in
            try await HistoryReads.prepare(requests, in: database, known: known)
        }
    }

    public var name: String { database.name }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: - Screening

    /// The first half of a Screen call: the stored answer of a record id seen before, or the
    /// claimant's history to screen a new contact with. Reads of calls arriving together are
    /// made together.
    public func prepare(_ record: DemandRecord, at: Int64, policy: ScreeningPolicy) async throws -> Preparation {
        try await reader.submit(HistoryRequest(record: record, at: at, policy: policy))
    }

    /// The second half: stores a screened contact durably (group commit) and returns the result
    /// to answer with: this one, or the one stored first when another call (or another daemon)
    /// stored the same record id first.
    public func record(_ contact: ScreenedContact) async throws -> ScreenAnswer {
        try await committer.submit(Submission(contact: contact, storedAtUnixMs: Self.now()))
    }

    static let contactColumns =
        "record_id, claimant_id, received_at_ms, stored_at_ms, channel, verdict, risk_level, signals, demand_kinds, incident_category, product_key, description, policy_version, client, commit_id, record, result"

    /// One transaction for a group: multi-row inserts (a round trip each, not one per row) that
    /// return the commit ids of the contacts they inserted, and flags only for those contacts.
    /// Each submission's commit id is the group's (random, so unique across daemons sharing a
    /// database) and its place in the group; one not returned was stored first by another call
    /// or daemon.
    private static func write(_ submissions: [Submission], to database: any SQLDatabase) async throws -> [ScreenAnswer] {
        let group = UUID().uuidString
        let commitIDs = submissions.indices.map { "\(group)/\($0)" }
        var contactRows: [[SQLValue]] = []
        var flagRows: [[SQLValue]] = []
        var ownAnswers: [ScreenAnswer] = []
        for (submission, commitID) in zip(submissions, commitIDs) {
            let contact = submission.contact
            let record = contact.maskPersonalData ? PersonalDataMasker.mask(contact.record) : contact.record
            let masksResult = contact.maskPersonalData && PersonalDataMasker.needsMasking(contact.result)
            let result = masksResult ? PersonalDataMasker.mask(contact.result) : contact.result
            let storedResult: [UInt8] = try result.serializedBytes()
            // The reply is the stored bytes when no excerpt could hold personal data (the usual case).
            ownAnswers.append(
                ScreenAnswer(result: contact.result, serialized: masksResult ? try contact.result.serializedBytes() as [UInt8] : storedResult))
            contactRows.append([
                .text(record.recordID), .text(record.claimantID), .integer(contact.receivedAtUnixMs),
                .integer(submission.storedAtUnixMs), .integer(Int64(record.channel.rawValue)),
                .integer(Int64(result.verdict.rawValue)), .integer(Int64(result.riskLevel.rawValue)),
                .text(encodeList(result.signals.map(\.kind.rawValue))), .text(encodeList(record.demands.map(\.kind.rawValue))),
                .integer(Int64(record.incident.category.rawValue)), .text(record.incident.productKey),
                .text(record.incident.description_p), .text(result.policyVersion), .text(contact.client),
                .text(commitID), .blob(try record.serializedBytes()), .blob(storedResult),
            ])
            for flag in HistoryWindows.flags(raisedBy: result) {
                flagRows.append([
                    .text(record.recordID), .integer(Int64(flag.kind.rawValue)), .text(record.claimantID),
                    .integer(Int64(flag.severity.rawValue)), .integer(Int64(result.riskLevel.rawValue)),
                    .integer(contact.receivedAtUnixMs), .blob(try flag.serializedBytes()), .text(commitID),
                ])
            }
        }
        let dialect = database.dialect
        let contactStatements = SQLStatement.batches(InsertContacts.self, rows: contactRows, dialect: dialect, sqliteRows: 100)
        let flagStatements = SQLStatement.batches(InsertRaisedFlags.self, rows: flagRows, dialect: dialect, sqliteRows: 200)
        let results = try await database.transaction(contactStatements + flagStatements)
        let inserted = Set(results.prefix(contactStatements.count).joined().map { $0.text(0) })
        // The records another call or daemon stored first (rare; also the second of a record sent
        // twice in one group): answer with the stored results, read once the group has committed
        // (stored contacts never change).
        let storedFirst = submissions.indices.filter { !inserted.contains(commitIDs[$0]) }
        var earlierResults: [String: [UInt8]] = [:]
        if !storedFirst.isEmpty {
            let ids = storedFirst.map { [SQLValue.text(submissions[$0].contact.record.recordID)] }
            let rows = try await database.query(SQLStatement(StoredResults.self, rows: ids, dialect: dialect))
            for row in rows { earlierResults[row.text(0)] = row.blob(1) }
        }
        return try submissions.indices.map { index in
            if inserted.contains(commitIDs[index]) { return ownAnswers[index] }
            let recordID = submissions[index].contact.record.recordID
            guard let earlier = earlierResults[recordID] else {
                throw StorageError(store: database.name, "the contact \(recordID) was not stored")
            }
            return try ScreenAnswer(stored: earlier)
        }
    }

    // MARK: - Security staff's queries

    /// One claimant's standing, counts, flags, newest contacts and notes; nil when nothing is
    /// stored about them.
    public func claimantRisk(_ claimantID: String, now: Int64, policy: ScreeningPolicy) async throws -> ClaimantRisk? {
        let id = SQLValue.text(claimantID)
        let rows = try await database.read([
            SQLStatement(
                "SELECT record_id, received_at_ms, channel, verdict, signals FROM contacts WHERE claimant_id = ? ORDER BY received_at_ms DESC, record_id DESC LIMIT 100",
                [id]),
            SQLStatement(
                "SELECT COUNT(*) FROM contacts WHERE claimant_id = ? AND received_at_ms > ? AND received_at_ms <= ?",
                [id, .integer(now - HistoryWindows.dayMs), .integer(now)]),
            SQLStatement(
                "SELECT COUNT(*) FROM contacts WHERE claimant_id = ? AND received_at_ms > ? AND received_at_ms <= ?",
                [id, .integer(now - HistoryWindows.claimantWindowMs), .integer(now)]),
            SQLStatement(
                "SELECT kind, severity, raised_at_ms, record_id, evidence, risk_level FROM risk_flags WHERE claimant_id = ? ORDER BY raised_at_ms DESC, record_id DESC LIMIT 200",
                [id]),
            SQLStatement(
                "SELECT text, author, created_at_ms FROM claimant_notes WHERE claimant_id = ? ORDER BY created_at_ms DESC LIMIT 200",
                [id]),
        ])
        guard !rows[0].isEmpty || !rows[3].isEmpty || !rows[4].isEmpty else { return nil }
        var risk = ClaimantRisk()
        risk.claimantID = claimantID
        risk.contacts24H = UInt32(rows[1].first?.integer(0) ?? 0)
        risk.contacts30D = UInt32(rows[2].first?.integer(0) ?? 0)
        risk.contacts = rows[0].map { row in
            var contact = Contact()
            contact.recordID = row.text(0)
            contact.receivedAtUnixMs = row.integer(1)
            contact.channel = ContactChannel(rawValue: Int(row.integer(2))) ?? .unspecified
            contact.verdict = Verdict(rawValue: Int(row.integer(3))) ?? .unspecified
            contact.signals = Self.decodeList(row.text(4)).map { SignalKind(rawValue: $0) ?? .signalUnspecified }
            return contact
        }
        let activeSince = now - HistoryWindows.flagActiveMs(policy)
        risk.riskLevel = .riskLow
        for row in rows[3] {
            risk.flags.append(try Self.riskFlag(row))
            if row.integer(2) > activeSince {
                risk.riskLevel = risk.riskLevel.raised(to: RiskLevel(rawValue: Int(row.integer(5))) ?? .riskLow)
            }
        }
        risk.notes = rows[4].map { row in
            var note = ClaimantNote()
            note.text = row.text(0)
            note.author = row.text(1)
            note.createdAtUnixMs = row.integer(2)
            return note
        }
        return risk
    }

    /// Claimants with flags, the most recently flagged first, one page at a time. The page token
    /// is a keyset position sealed with the query it belongs to.
    public func riskFlags(_ request: ListRiskFlagsRequest, now: Int64, policy: ScreeningPolicy) async throws -> ListRiskFlagsResponse {
        let pageSize = request.pageSize == 0 ? 50 : Int(request.pageSize)
        guard pageSize <= 500 else {
            throw StoreRequestError(.invalidArgument, field: "page_size", "must be at most 500, got \(request.pageSize)")
        }
        var position: PageToken?
        if !request.pageToken.isEmpty {
            position = try PageToken(decoding: request.pageToken, for: request)
        }
        let since = position?.since ?? (request.sinceUnixMs > 0 ? request.sinceUnixMs : now - HistoryWindows.flagActiveMs(policy))
        let minimumRisk = Int64(max(request.minRiskLevel.rawValue, RiskLevel.riskLow.rawValue))
        var binds: [SQLValue] = [.integer(since), .integer(minimumRisk)]
        var after = ""
        if let position {
            after = " AND (MAX(raised_at_ms) < ? OR (MAX(raised_at_ms) = ? AND claimant_id < ?))"
            binds += [.integer(position.lastFlagAt), .integer(position.lastFlagAt), .text(position.claimantID)]
        }
        binds.append(.integer(Int64(pageSize + 1)))
        let claimants = try await database.query(
            SQLStatement(
                "SELECT claimant_id, MAX(raised_at_ms), MAX(risk_level) FROM risk_flags WHERE raised_at_ms >= ? GROUP BY claimant_id HAVING MAX(risk_level) >= ?\(after) ORDER BY MAX(raised_at_ms) DESC, claimant_id DESC LIMIT ?",
                binds))
        let page = claimants.prefix(pageSize)
        var response = ListRiskFlagsResponse()
        guard !page.isEmpty else { return response }
        let ids = page.map { SQLValue.text($0.text(0)) }
        let flagRows = try await database.query(
            SQLStatement(
                "SELECT kind, severity, raised_at_ms, record_id, evidence, risk_level, claimant_id FROM risk_flags WHERE claimant_id IN (\(Self.placeholders(ids.count))) AND raised_at_ms >= ? ORDER BY raised_at_ms DESC, record_id DESC",
                ids + [.integer(since)]))
        var flags: [String: [RiskFlag]] = [:]
        for row in flagRows { flags[row.text(6), default: []].append(try Self.riskFlag(row)) }
        response.claimants = page.map { row in
            var claimant = FlaggedClaimant()
            claimant.claimantID = row.text(0)
            claimant.lastFlagAtUnixMs = row.integer(1)
            claimant.riskLevel = RiskLevel(rawValue: Int(row.integer(2))) ?? .riskLow
            claimant.flags = flags[claimant.claimantID] ?? []
            return claimant
        }
        if claimants.count > pageSize, let last = page.last {
            response.nextPageToken = PageToken(
                lastFlagAt: last.integer(1), claimantID: last.text(0), since: since, request: request
            ).encoded()
        }
        return response
    }

    /// Open recurring-issue alerts: the same complaint from several claimants since `since`
    /// (0 = the policy's window before `now`).
    public func recurringIssues(since: Int64, now: Int64, policy: ScreeningPolicy) async throws -> [RecurringIssue] {
        let from = since > 0 ? since : now - HistoryWindows.recurringWindowMs(policy)
        let rows = try await database.query(
            SQLStatement(
                "SELECT \(Self.pastContactColumns) FROM contacts WHERE received_at_ms >= ? AND incident_category <> 0 ORDER BY received_at_ms, record_id LIMIT 20000",
                [.integer(from)]))
        return RecurringIssueFinder.issues(in: rows.map { Self.pastContact($0) }, policy: policy)
    }

    /// Stores a security staff member's note on a known claimant.
    public func addNote(claimantID: String, text: String, author: String, at: Int64) async throws -> ClaimantNote {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !claimantID.isEmpty else { throw StoreRequestError(.invalidArgument, field: "claimant_id", "is required") }
        guard !trimmed.isEmpty else { throw StoreRequestError(.invalidArgument, field: "text", "is empty") }
        guard text.count <= Self.maximumNoteLength else {
            throw StoreRequestError(
                .invalidArgument, field: "text", "is \(text.count) characters; a note holds at most \(Self.maximumNoteLength)")
        }
        let rows = try await database.transaction([
            SQLStatement(
                "INSERT INTO claimant_notes (claimant_id, created_at_ms, author, text) SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM contacts WHERE claimant_id = ?) RETURNING created_at_ms",
                [.text(claimantID), .integer(at), .text(author), .text(trimmed), .text(claimantID)])
        ])
        guard rows[0].first != nil else {
            throw StoreRequestError(.notFound, field: "claimant_id", "no contact from '\(claimantID)' is stored")
        }
        var note = ClaimantNote()
        note.text = trimmed
        note.author = author
        note.createdAtUnixMs = at
        return note
    }

    /// Erases everything stored about one claimant and says what went.
    public func purge(claimantID: String) async throws -> PurgeClaimantResponse {
        guard !claimantID.isEmpty else { throw StoreRequestError(.invalidArgument, field: "claimant_id", "is required") }
        let id = SQLValue.text(claimantID)
        let rows = try await database.transaction([
            SQLStatement("DELETE FROM contacts WHERE claimant_id = ? RETURNING record_id", [id]),
            SQLStatement("DELETE FROM risk_flags WHERE claimant_id = ? RETURNING record_id", [id]),
            SQLStatement("DELETE FROM claimant_notes WHERE claimant_id = ? RETURNING author", [id]),
        ])
        var response = PurgeClaimantResponse()
        response.claimantID = claimantID
        response.contactsRemoved = UInt32(rows[0].count)
        response.flagsRemoved = UInt32(rows[1].count)
        response.notesRemoved = UInt32(rows[2].count)
        return response
    }

    /// The retention purge: transcripts and excerpts of contacts before `before` are erased;
    /// the contacts' counts, verdicts, signals and flags stay. Returns how many were purged.
    public func purgeTranscripts(before: Int64) async throws -> Int {
        var purged = 0
        while true {
            let rows = try await database.query(
                SQLStatement(
                    "SELECT record_id, result FROM contacts WHERE received_at_ms < ? AND record IS NOT NULL LIMIT 500",
                    [.integer(before)]))
            guard !rows.isEmpty else { return purged }
            var statements: [SQLStatement] = []
            for row in rows {
                var result = try ScreeningResult(serializedBytes: row.blob(1) ?? [])
                for signal in result.signals.indices {
                    for evidence in result.signals[signal].evidence.indices { result.signals[signal].evidence[evidence].excerpt = "" }
                }
                statements.append(
                    SQLStatement(
                        "UPDATE contacts SET record = NULL, description = '', result = ? WHERE record_id = ?",
                        [.blob(try result.serializedBytes()), .text(row.text(0))]))
                for signal in result.signals {
                    statements.append(
                        SQLStatement(
                            "UPDATE risk_flags SET evidence = ? WHERE record_id = ? AND kind = ?",
                            [.blob(try signal.serializedBytes()), .text(row.text(0)), .integer(Int64(signal.kind.rawValue))]))
                }
            }
            _ = try await database.transaction(statements)
            purged += rows.count
        }
    }

    /// A write that touches the disk: fails while the store cannot take writes.
    public func checkHealth() async throws {
        _ = try await database.transaction([
            SQLStatement("UPDATE schema_migrations SET applied_at_ms = applied_at_ms WHERE version = 1")
        ])
    }

    public func close() async { await database.close() }

    // MARK: - Rows

    static let pastContactColumns =
        "record_id, claimant_id, received_at_ms, verdict, demand_kinds, incident_category, product_key, description"

    /// The contact in `row`'s `pastContactColumns`, which start at column `first`.
    static func pastContact(_ row: SQLRow, from first: Int = 0) -> PastContact {
        PastContact(
            recordID: row.text(first), claimantID: row.text(first + 1), receivedAtUnixMs: row.integer(first + 2),
            verdict: Verdict(rawValue: Int(row.integer(first + 3))) ?? .unspecified,
            demandKinds: decodeList(row.text(first + 4)).map { DemandKind(rawValue: $0) ?? .demandUnspecified },
            complaint: Complaint(
                category: IncidentCategory(rawValue: Int(row.integer(first + 5))) ?? .incidentUnspecified,
                productKey: row.text(first + 6), description: row.text(first + 7)))
    }

    static func riskFlag(_ row: SQLRow) throws -> RiskFlag {
        let signal = try Signal(serializedBytes: row.blob(4) ?? [])
        var flag = RiskFlag()
        flag.kind = SignalKind(rawValue: Int(row.integer(0))) ?? .signalUnspecified
        flag.severity = Severity(rawValue: Int(row.integer(1))) ?? .unspecified
        flag.raisedAtUnixMs = row.integer(2)
        flag.recordID = row.text(3)
        flag.evidence = signal.evidence
        return flag
    }

    /// `?, ?, ?`: the placeholders of an `IN` list.
    static func placeholders(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }

    static func encodeList(_ values: [Int]) -> String { values.map(String.init).joined(separator: ",") }

    static func decodeList(_ text: String) -> [Int] { text.split(separator: ",").compactMap { Int($0) } }
}

/// A group's contacts; a record id stored before keeps its first contact. Returns the commit ids
/// of the contacts it inserted.
enum InsertContacts: RowsStatement {
    static let columns: [SQLColumnType] = [
        .text, .text, .integer, .integer, .integer, .integer, .integer, .text, .text, .integer, .text, .text, .text, .text, .text,
        .blob, .blob,
    ]
    static func template(_ dialect: SQLDialect) -> String {
        "INSERT INTO contacts (\(ContactStore.contactColumns)) {rows} ON CONFLICT (record_id) DO NOTHING RETURNING commit_id"
    }
}

/// The flags a group's contacts raised, for the contacts this group inserted (`commit_id`) only.
enum InsertRaisedFlags: RowsStatement {
    static let columns: [SQLColumnType] = [.text, .integer, .text, .integer, .integer, .integer, .blob, .text]
    static func template(_ dialect: SQLDialect) -> String {
        """
        WITH raised (record_id, kind, claimant_id, severity, risk_level, raised_at_ms, evidence, commit_id) AS ({rows}) \
        INSERT INTO risk_flags (record_id, kind, claimant_id, severity, risk_level, raised_at_ms, evidence) \
        SELECT record_id, kind, claimant_id, severity, risk_level, raised_at_ms, evidence FROM raised \
        WHERE EXISTS (SELECT 1 FROM contacts WHERE contacts.record_id = raised.record_id AND contacts.commit_id = raised.commit_id) \
        ON CONFLICT (record_id, kind) DO NOTHING
        """
    }
}

/// `record_id, result` of the listed records that are stored.
enum StoredResults: RowsStatement {
    static let columns: [SQLColumnType] = [.text]
    static func template(_ dialect: SQLDialect) -> String { "SELECT record_id, result FROM contacts WHERE record_id {in list}" }
}
