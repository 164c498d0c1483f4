import DemandScreenAPI
import Foundation
import ScreeningEngine
import SwiftProtobuf

/// Group commit: the contacts of the calls that arrive together written in one transaction, with
/// the flags they raise, each call answered with its own result or the one stored first.
extension ContactStore {
    static let contactColumns =
        "record_id, claimant_id, received_at_ms, stored_at_ms, channel, verdict, risk_level, signals, demand_kinds, incident_category, product_key, description, money_demanded, policy_version, client, commit_id, record, result"

    /// One transaction for a group: multi-row inserts (a round trip each, not one per row) that
    /// return the commit ids of the contacts they inserted, and flags only for those contacts.
    /// Each submission's commit id is the group's (random, so unique across daemons sharing a
    /// database) and its place in the group; one not returned was stored first by another call
    /// or daemon.
    static func write(_ submissions: [Submission], to database: any SQLDatabase) async throws -> [ScreenAnswer] {
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
                ScreenAnswer(
                    result: contact.result, serialized: masksResult ? try contact.result.serializedBytes() as [UInt8] : storedResult))
            contactRows.append([
                .text(record.recordID), .text(record.claimantID), .integer(contact.receivedAtUnixMs),
                .integer(submission.storedAtUnixMs), .integer(Int64(record.channel.rawValue)),
                .integer(Int64(result.verdict.rawValue)), .integer(Int64(result.riskLevel.rawValue)),
                .text(encodeList(result.signals.map(\.kind.rawValue))), .text(encodeList(record.demands.map(\.kind.rawValue))),
                .integer(Int64(record.incident.category.rawValue)), .text(record.incident.productKey),
                .text(record.incident.description_p), .text(DemandedMoney(record.demands)?.stored ?? ""),
                .text(result.policyVersion), .text(contact.client),
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
        let inserted = Set(try results.prefix(contactStatements.count).joined().map { try $0.text(0) })
        // The records another call or daemon stored first (rare; also the second of a record sent
        // twice in one group): answer with the stored results, read once the group has committed
        // (stored contacts never change).
        let storedFirst = submissions.indices.filter { !inserted.contains(commitIDs[$0]) }
        var earlierResults: [String: [UInt8]] = [:]
        if !storedFirst.isEmpty {
            let ids = storedFirst.map { [SQLValue.text(submissions[$0].contact.record.recordID)] }
            let rows = try await database.query(SQLStatement(StoredResults.self, rows: ids, dialect: dialect))
            for row in rows { earlierResults[try row.text(0)] = try row.blob(1) }
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
}

/// A group's contacts; a record id stored before keeps its first contact. Returns the commit ids
/// of the contacts it inserted.
enum InsertContacts: RowsStatement {
    static let columns: [SQLColumnType] = [
        .text, .text, .integer, .integer, .integer, .integer, .integer, .text, .text, .integer, .text, .text, .text, .text, .text,
        .text, .blob, .blob,
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
