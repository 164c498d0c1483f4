import ArgumentParser
import DemandScreenAPI
import DemandScreenClient
import DemandScreenRPC
import EmbeddedDefaults
import Foundation
import Histogram
import SwiftProtobuf
import Synchronization

/// `demandscreen bench`: a load generator over TLS. N connections, each with D calls in flight,
/// send the file's records again and again (each with a fresh record id, so that every call is a
/// new contact) for a duration or a count, and the latencies go into an HDR histogram.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the server with Screen calls and print calls/s and latency percentiles.",
        discussion: """
            Every call is a new contact (a fresh record id). Claimants: as in the file, a fresh one per \
            call (--claimants fresh), or one for every call (--claimants hot: a harassing caller). With \
            --server-pid, the server's CPU time per call is read from /proc. Calls sent during the warm-up \
            are not counted; the measured time runs from the end of the warm-up to the last answer. A call \
            refused with RESOURCE_EXHAUSTED is counted as an error, and its worker waits the server's \
            retry-after-ms before its next call.
            """)

    /// Whose contacts the calls are.
    enum Claimants: String, ExpressibleByArgument, Sendable {
        /// The claimant ids of the file's records.
        case file
        /// A new claimant for every call: no history at all.
        case fresh
        /// One claimant for every call: a history that grows with every call.
        case hot
    }

    @Argument(help: "DemandRecords as JSON, or a .jsonl file with one per line.") var file: String
    @Option(help: "Connections.") var connections = 4
    @Option(help: "Calls in flight per connection.") var depth = 16
    @Option(help: "Seconds to measure (ignored with --count).") var duration = 10.0
    @Option(help: "Calls to measure instead of a duration.") var count: Int?
    @Option(help: "Seconds of calls before measuring.") var warmup = 1.0
    @Option(help: "file, fresh or hot.") var claimants: Claimants = .file
    @Option(help: "The server's process id, to report its CPU time per call.") var serverPid: Int32?
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard connections >= 1, depth >= 1 else { throw ValidationError("--connections and --depth must be at least 1") }
        guard duration > 0, warmup >= 0 else { throw ValidationError("--duration must be above 0 and --warmup not below 0") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func run() async throws {
        var records: [DemandRecord] = []
        for input in try RecordInput.read(file) {
            do {
                records.append(try RecordJSON.decode(input.json))
            } catch {
                throw ValidationError("\(file):\(input.line): \(error)")
            }
        }
        guard !records.isEmpty else { throw ValidationError("\(file) holds no record") }
        let configuration = try connection.clientConfiguration(tokenFile: EmbeddedDefaults.File.agentToken)
        let load = Load(
            records: records, claimants: claimants, run: String(UInt32.random(in: 0...UInt32.max), radix: 36),
            timeout: connection.timeoutMs)

        // Warm up, then measure: every worker records the calls answered while `measuring` is set.
        let clock = ContinuousClock()
        let start = clock.now
        let measureFrom = start + .seconds(warmup)
        let stopAt: ContinuousClock.Instant? = count == nil ? measureFrom + .seconds(duration) : nil
        let target = count
        // The server's CPU time when the warm-up ends.
        let serverPid = self.serverPid
        let cpuAtStart = Task { () -> Double? in
            try? await Task.sleep(until: measureFrom, clock: clock)
            return Self.cpuSeconds(serverPid)
        }
        let results: [WorkerResult]
        do {
            results = try await withThrowingTaskGroup(of: [WorkerResult].self) { group in
                for _ in 0..<connections {
                    group.addTask {
                        try await DemandScreenConnection.withConnection(to: configuration) { client in
                            try await withThrowingTaskGroup(of: WorkerResult.self) { workers in
                                for _ in 0..<depth {
                                    workers.addTask {
                                        try await load.work(
                                            client, clock: clock, measureFrom: measureFrom, stopAt: stopAt, target: target)
                                    }
                                }
                                var collected: [WorkerResult] = []
                                for try await result in workers { collected.append(result) }
                                return collected
                            }
                        }
                    }
                }
                var all: [WorkerResult] = []
                for try await part in group { all += part }
                return all
            }
        } catch let error as ClientError {
            printError("demandscreen: \(error)")
            throw ExitStatus.unreachable
        }
        let end = max(results.map(\.lastAnswer).max() ?? measureFrom, measureFrom)
        let cpuAfter = Self.cpuSeconds(serverPid)
        let cpuStart = await cpuAtStart.value
        let measured = (end - measureFrom).components
        let seconds = Double(measured.seconds) + Double(measured.attoseconds) / 1e18

        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var errors: [String: Int] = [:]
        var calls = 0
        for result in results {
            for micros in result.latenciesMicros { histogram.record(micros) }
            calls += result.latenciesMicros.count
            for (status, number) in result.errors {
                errors[status, default: 0] += number
                calls += number
            }
        }
        func ms(_ percentile: Double) -> String { String(format: "%.2f", Double(histogram.valueAtPercentile(percentile)) / 1000) }
        print("connections \(connections) × depth \(depth), claimants \(claimants.rawValue), \(records.count) distinct record(s)")
        print(String(format: "calls %d in %.2f s: %.0f calls/s", calls, seconds, seconds > 0 ? Double(calls) / seconds : 0))
        print(
            "latency ms of the answered calls: p50 \(ms(50)) p90 \(ms(90)) p99 \(ms(99)) p99.9 \(ms(99.9)) max \(String(format: "%.2f", Double(histogram.max) / 1000))"
        )
        print(
            "errors: "
                + (errors.isEmpty ? "none" : errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        if let cpuStart, let cpuAfter, calls > 0 {
            print(String(format: "server CPU per call: %.0f µs", (cpuAfter - cpuStart) / Double(calls) * 1e6))
        }
        if !errors.isEmpty { throw ExitStatus.callFailed }
    }

    /// The process's user + system CPU seconds from /proc; nil without a pid or on another OS.
    static func cpuSeconds(_ pid: Int32?) -> Double? {
        guard let pid, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// What one worker measured.
struct WorkerResult: Sendable {
    var latenciesMicros: [UInt64] = []
    var errors: [String: Int] = [:]
    var lastAnswer: ContinuousClock.Instant
}

/// The calls to send: the file's records in turn, each made a new contact.
final class Load: Sendable {
    let records: [DemandRecord]
    let claimants: Bench.Claimants
    /// Tells this run's record ids from every other run's.
    let run: String
    let timeout: UInt32
    private let next = Atomic<Int>(0)
    private let measured = Atomic<Int>(0)

    init(records: [DemandRecord], claimants: Bench.Claimants, run: String, timeout: UInt32) {
        self.records = records
        self.claimants = claimants
        self.run = run
        self.timeout = timeout
    }

    /// The next call's request: the next record with a fresh record id (and claimant).
    func nextRequest() throws -> Data {
        let number = next.wrappingAdd(1, ordering: .relaxed).oldValue
        var record = records[number % records.count]
        record.recordID = "bench-\(run)-\(number)"
        switch claimants {
        case .file: break
        case .fresh: record.claimantID = "bench-\(run)-c\(number)"
        case .hot: record.claimantID = "bench-\(run)-hot"
        }
        return try record.serializedBytes()
    }

    /// Sends calls one after the other until the time or the count is up.
    func work(
        _ client: DemandScreenConnection, clock: ContinuousClock, measureFrom: ContinuousClock.Instant,
        stopAt: ContinuousClock.Instant?, target: Int?
    ) async throws -> WorkerResult {
        var result = WorkerResult(lastAnswer: clock.now)
        while true {
            let sent = clock.now
            if let stopAt, sent >= stopAt { break }
            if let target, measured.load(ordering: .relaxed) >= target { break }
            let response = try await client.call(MethodName.screen, message: try nextRequest(), timeoutMilliseconds: timeout)
            let answered = clock.now
            // A refused call's worker waits as long as the server's hint says, as a client should.
            if response.status == .resourceExhausted, let hint = response.metadata["retry-after-ms"].flatMap({ Int($0) }) {
                try await Task.sleep(for: .milliseconds(hint))
            }
            guard sent >= measureFrom else { continue }
            if let target, measured.wrappingAdd(1, ordering: .relaxed).oldValue >= target { break }
            if response.status == .ok {
                let elapsed = answered - sent
                result.latenciesMicros.append(
                    UInt64(elapsed.components.seconds) * 1_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000_000))
            } else {
                result.errors[response.status.name, default: 0] += 1
            }
            result.lastAnswer = answered
        }
        return result
    }
}
