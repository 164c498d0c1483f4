import DemandScreenAPI
import DemandScreenStorage
import DemandScreenTestSupport
import Foundation
import Logging
import ScreeningEngine
import SwiftProtobuf
import Testing

/// The two backends every storage test runs against.
enum Backend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite
    case postgres

    var description: String { rawValue }

    /// A URL for a new, empty store.
    func newStoreURL() async throws -> String {
        switch self {
        case .sqlite:
            let directory = NSTemporaryDirectory() + "demandscreen-store-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return "sqlite:\(directory)/history.sqlite"
        case .postgres:
            return try await PostgresTestServer.createDatabase()
        }
    }
}

let testLogger = Logger(label: "storage-tests")
let engine = ScreeningEngine(policy: .builtIn())

func open(_ url: String, groupCommit: Bool = true) async throws -> ContactStore {
    try #require(try await StorageLocation(url: url).open(groupCommit: groupCommit, logger: testLogger))
}

/// Runs `body` with a new store of `backend`, closed afterwards.
func withStore(_ backend: Backend, _ body: (ContactStore, String) async throws -> Void) async throws {
    let url = try await backend.newStoreURL()
    let store = try await open(url)
    do {
        try await body(store, url)
    } catch {
        await store.close()
        throw error
    }
    await store.close()
}

let hourMs: Int64 = 3_600_000
let dayMs: Int64 = 86_400_000
/// A fixed "now" for the tests: 2026-12-01T00:00:00Z.
let baseTime: Int64 = 1_796_083_200_000

/// A phone contact in Japanese with confirmed facts: the part every test record shares.
func record(
    _ id: String, claimant: String, at: Int64, says text: String, category: IncidentCategory, description: String,
    productKey: String = "", demand kind: DemandKind, _ demandText: String
) -> DemandRecord {
    var record = DemandRecord()
    record.recordID = id
    record.claimantID = claimant
    record.channel = .phone
    record.receivedAtUnixMs = at
    record.language = "ja"
    record.utterances = [utterance(.customer, text)]
    record.incident.category = category
    record.incident.description_p = description
    record.incident.productKey = productKey
    record.assessment.companyFault = .confirmed
    record.assessment.causation = .confirmed
    var demand = Demand()
    demand.kind = kind
    demand.text = demandText
    record.demands = [demand]
    return record
}

/// A contact about a product defect with a proportionate demand: legitimate.
func legitimateRecord(
    _ id: String, claimant: String, at: Int64, productKey: String = "", description: String = "電子レンジの扉が閉まらない"
) -> DemandRecord {
    record(
        id, claimant: claimant, at: at, says: "先週買った電子レンジの扉が閉まらないんです。交換してもらえますか。",
        category: .incidentProductDefect, description: description, productKey: productKey,
        demand: .demandReplacement, "交換してほしい")
}

/// A claimant ("c-money") asking for `amount` yen for a product defect whose loss is not verified.
func moneyRecord(_ id: String, _ amount: Int64, at: Int64, description: String = "電子レンジの扉が閉まらない") -> DemandRecord {
    var contact = record(
        id, claimant: "c-money", at: at, says: "電子レンジの扉が閉まらないので、お金で解決してください。",
        category: .incidentProductDefect, description: description, demand: .demandCompensation, "補償してほしい")
    contact.demands[0].amount.currencyCode = "JPY"
    contact.demands[0].amount.amountMinor = amount
    return contact
}

/// A contact with coercion and an exposure threat: unjust, raising flags.
func unjustRecord(_ id: String, claimant: String, at: Int64) -> DemandRecord {
    record(
        id, claimant: claimant, at: at, says: "土下座しろ。今すぐ来い。来ないならネットに晒すぞ。",
        category: .incidentDelivery, description: "配達が一日遅れた", demand: .demandKneelingApology, "土下座")
}

func utterance(_ speaker: Speaker, _ text: String) -> Utterance {
    var utterance = Utterance()
    utterance.speaker = speaker
    utterance.text = text
    return utterance
}

extension ContactStore {
    /// Screens as the daemon does, with a test client name.
    func screen(_ record: DemandRecord) async throws -> ScreeningResult {
        let answer = try await screen(record, at: record.receivedAtUnixMs) { history in
            engine.screen(record, history: history)
        }
        // The answer's bytes are the result, whether just stored or stored before.
        #expect(try ScreeningResult(serializedBytes: answer.serialized) == answer.result)
        return answer.result
    }

    /// Prepares, judges with `judge` and records, as the service does.
    func screen(_ record: DemandRecord, at: Int64, judge: (ClaimantHistory) -> ScreeningResult) async throws -> ScreenAnswer {
        switch try await prepare(record, at: at, policy: engine.policy) {
        case .alreadyScreened(let stored):
            return stored
        case .newContact(let history):
            return try await self.record(
                ScreenedContact(
                    record: record, result: judge(history), receivedAtUnixMs: at, client: "test",
                    maskPersonalData: engine.policy.maskPersonalData))
        }
    }

    func contactCount() async throws -> Int64 {
        try await database.query(SQLStatement("SELECT COUNT(*) FROM contacts")).first?.integer(0) ?? -1
    }
}
