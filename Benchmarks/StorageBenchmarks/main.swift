import DemandScreenAPI
import DemandScreenStorage
import Foundation
import Logging
import ScreeningEngine

/// Durable Screen calls per second of the store alone (`ContactStore.screen`: the history read and
/// the durable commit, no TLS, no engine: each record's result is computed before the clock
/// starts), 256 calls in flight, for each store named on the command line, in one run:
///
///     StorageBenchmarks N NAME=STORAGE-URL=GROUP-COMMIT ...
///
/// `Scripts/bench-storage.sh` runs it next to the daemon benchmark, on fresh stores.
@main
struct StorageBenchmarks {
    static let inFlight = 256

    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let count = arguments.first.flatMap(Int.init), count > 0, arguments.count > 1 else {
            FileHandle.standardError.write(Data("usage: StorageBenchmarks N NAME=STORAGE-URL=true|false ...\n".utf8))
            exit(64)
        }
        let engine = ScreeningEngine(policy: .builtIn())
        let records = (0..<count).map(record)
        let results = records.map { engine.screen($0) }
        for store in arguments.dropFirst() {
            // The URL may hold `=` itself (`?sslmode=disable`): the name ends at the first, the
            // group-commit flag starts after the last.
            guard let nameEnd = store.firstIndex(of: "="), let flagStart = store.lastIndex(of: "="), nameEnd < flagStart,
                let groupCommit = Bool(String(store[store.index(after: flagStart)...]))
            else {
                FileHandle.standardError.write(Data("StorageBenchmarks: '\(store)' is not NAME=STORAGE-URL=true|false\n".utf8))
                exit(64)
            }
            let name = String(store[..<nameEnd])
            let location = try StorageLocation(url: String(store[store.index(after: nameEnd)..<flagStart]))
            guard let contacts = try await location.open(groupCommit: groupCommit, logger: Logger(label: "bench"))
            else { continue }
            let start = ContinuousClock.now
            let cpuBefore = processCPUMicroseconds()
            try await screenAll(records, results, in: contacts, policy: engine.policy)
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            let cpuPerCall = (processCPUMicroseconds() - cpuBefore) / Double(count)
            await contacts.close()
            let line =
                "\(name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(Int(Double(count) / seconds)) calls/s  (\(count) stored, \(String(format: "%.1f", seconds)) s, CPU \(Int(cpuPerCall)) µs per call)"
            print(line)
        }
    }

    /// User and system CPU time of this process so far.
    static func processCPUMicroseconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) * 1e6 + Double(usage.ru_utime.tv_usec)
        return user + Double(usage.ru_stime.tv_sec) * 1e6 + Double(usage.ru_stime.tv_usec)
    }

    /// Screens every record through the store, `inFlight` at a time, as a pipelining client would.
    static func screenAll(_ records: [DemandRecord], _ results: [ScreeningResult], in contacts: ContactStore, policy: ScreeningPolicy)
        async throws
    {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, record) in records.enumerated() {
                if index >= inFlight { try await group.next() }
                let result = results[index]
                group.addTask {
                    let at = record.receivedAtUnixMs
                    if case .newContact = try await contacts.prepare(record, at: at, policy: policy) {
                        _ = try await contacts.record(
                            ContactStore.ScreenedContact(
                                record: record, result: result, receivedAtUnixMs: at, client: "bench",
                                maskPersonalData: policy.maskPersonalData))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// The daemon benchmark's load: 2 000 claimants, three short Japanese complaints.
    static func record(_ index: Int) -> DemandRecord {
        let texts = [
            "注文した商品がまだ届いていません。いつ届くか教えてください。",
            "届いた電子レンジの扉が閉まりません。交換してもらえますか。",
            "請求書に身に覚えのない料金が入っています。確認してください。",
        ]
        var record = DemandRecord()
        record.recordID = "store-bench-\(index)"
        record.claimantID = "sb-\(index % 2000)"
        record.channel = .phone
        record.receivedAtUnixMs = 1_796_083_200_000 + Int64(index) * 1000
        record.language = "ja"
        var utterance = Utterance()
        utterance.speaker = .customer
        utterance.text = texts[index % texts.count]
        record.utterances = [utterance]
        record.incident.category = .incidentDelivery
        record.incident.description_p = "商品が届かない"
        record.assessment.companyFault = .confirmed
        record.assessment.causation = .confirmed
        var demand = Demand()
        demand.kind = .demandExplanation
        demand.text = "説明してほしい"
        record.demands = [demand]
        return record
    }
}
