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
        /// The record as the caller sent it (masked on its way into storage when the policy says so).
        public var record: DemandRecord
        /// The judgment with its written response.
        public var result: ScreeningResult
        /// The contact's time: `received_at_unix_ms`, or the arrival time when that was 0.
        public var receivedAtUnixMs: Int64
        /// The authenticated client that sent it.
        public var client: String
        /// Whether personal data is masked before it is stored (the policy's `personalData`).
        public var maskPersonalData: Bool

        /// A contact to store.
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
    private let reader: Batcher<HistoryRequest, Result<Preparation, any Error>>

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

    /// The first half of a Screen call: the stored answer of a record id seen before, or the
    /// claimant's history to screen a new contact with. Reads of calls arriving together are
    /// made together.
    public func prepare(_ record: DemandRecord, at: Int64, policy: ScreeningPolicy) async throws -> Preparation {
        try await reader.submit(HistoryRequest(record: record, at: at, policy: policy)).get()
    }

    /// The second half: stores a screened contact durably (group commit) and returns the result
    /// to answer with: this one, or the one stored first when another call (or another daemon)
    /// stored the same record id first.
    public func record(_ contact: ScreenedContact) async throws -> ScreenAnswer {
        try await committer.submit(Submission(contact: contact, storedAtUnixMs: Self.now()))
    }

    /// A write that touches the disk: fails while the store cannot take writes.
    public func checkHealth() async throws {
        _ = try await database.transaction([
            SQLStatement("UPDATE schema_migrations SET applied_at_ms = applied_at_ms WHERE version = 1")
        ])
    }

    public func close() async { await database.close() }
}
