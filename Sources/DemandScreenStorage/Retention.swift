public import DemandScreenAPI
import Foundation
import ScreeningEngine
import SwiftProtobuf

/// Erasing: one claimant on request, and transcripts past the retention period.
extension ContactStore {
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
                var result = try ScreeningResult(serializedBytes: try row.blob(1) ?? [])
                for signal in result.signals.indices {
                    for evidence in result.signals[signal].evidence.indices { result.signals[signal].evidence[evidence].excerpt = "" }
                }
                statements.append(
                    SQLStatement(
                        "UPDATE contacts SET record = NULL, description = '', result = ? WHERE record_id = ?",
                        [.blob(try result.serializedBytes()), .text(try row.text(0))]))
                for signal in result.signals {
                    statements.append(
                        SQLStatement(
                            "UPDATE risk_flags SET evidence = ? WHERE record_id = ? AND kind = ?",
                            [.blob(try signal.serializedBytes()), .text(try row.text(0)), .integer(Int64(signal.kind.rawValue))]))
                }
            }
            _ = try await database.transaction(statements)
            purged += rows.count
        }
    }
}
