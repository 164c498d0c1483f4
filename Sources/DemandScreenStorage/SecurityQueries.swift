public import DemandScreenAPI
import Foundation
public import ScreeningEngine
import SwiftProtobuf

/// What security staff ask of the store: a claimant's standing, the flagged claimants, the
/// recurring issues, and their notes.
extension ContactStore {
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
        risk.contacts24H = UInt32(try rows[1].first?.integer(0) ?? 0)
        risk.contacts30D = UInt32(try rows[2].first?.integer(0) ?? 0)
        risk.contacts = try rows[0].map { row in
            var contact = Contact()
            contact.recordID = try row.text(0)
            contact.receivedAtUnixMs = try row.integer(1)
            contact.channel = ContactChannel(rawValue: Int(try row.integer(2))) ?? .unspecified
            contact.verdict = Verdict(rawValue: Int(try row.integer(3))) ?? .unspecified
            contact.signals = Self.decodeList(try row.text(4)).map { SignalKind(rawValue: $0) ?? .signalUnspecified }
            return contact
        }
        let activeSince = now - HistoryWindows.flagActiveMs(policy)
        risk.riskLevel = .riskLow
        for row in rows[3] {
            risk.flags.append(try Self.riskFlag(row))
            if try row.integer(2) > activeSince {
                risk.riskLevel = risk.riskLevel.raised(to: RiskLevel(rawValue: Int(try row.integer(5))) ?? .riskLow)
            }
        }
        risk.notes = try rows[4].map { row in
            var note = ClaimantNote()
            note.text = try row.text(0)
            note.author = try row.text(1)
            note.createdAtUnixMs = try row.integer(2)
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
        let ids = try page.map { SQLValue.text(try $0.text(0)) }
        let flagRows = try await database.query(
            SQLStatement(
                "SELECT kind, severity, raised_at_ms, record_id, evidence, risk_level, claimant_id FROM risk_flags WHERE claimant_id IN (\(Self.placeholders(ids.count))) AND raised_at_ms >= ? ORDER BY raised_at_ms DESC, record_id DESC",
                ids + [.integer(since)]))
        var flags: [String: [RiskFlag]] = [:]
        for row in flagRows { flags[try row.text(6), default: []].append(try Self.riskFlag(row)) }
        response.claimants = try page.map { row in
            var claimant = FlaggedClaimant()
            claimant.claimantID = try row.text(0)
            claimant.lastFlagAtUnixMs = try row.integer(1)
            claimant.riskLevel = RiskLevel(rawValue: Int(try row.integer(2))) ?? .riskLow
            claimant.flags = flags[claimant.claimantID] ?? []
            return claimant
        }
        if claimants.count > pageSize, let last = page.last {
            response.nextPageToken = PageToken(
                lastFlagAt: try last.integer(1), claimantID: try last.text(0), since: since, request: request
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
        return RecurringIssueFinder.issues(in: try rows.map { try Self.pastContact($0) }, policy: policy)
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
}
