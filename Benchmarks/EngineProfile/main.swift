import BenchmarkRecords
import DemandScreenAPI
import Foundation
import ScreeningEngine

// Each record's own screening time, to tell a slow record from a slow machine: every record of
// the benchmark's set is screened ROUNDS times (cycling through the set), and the tool prints the
// distribution of all those times next to the distribution of each record's best time, then the
// slowest records by best time with what they found. Then, as a reference for the machine rather
// than the engine, it screens one record as many times in a row: fixed work on a warm cache, whose
// spread is the machine's own (a shared VM stretches it at p99 several times over its best). Run
// by `Scripts/bench.sh records`; with ROUNDS=1 under callgrind it is `Scripts/bench.sh instructions`
// (with one round there is no reference: it counts the set's screens and the slowest five again).
// Every screen is also timed on the thread's CPU clock, which stops while the thread is not
// running: on a VM whose host runs other guests on the same core (the kernel's "steal" time, shown
// before and after), the wall clock counts those waits and the CPU clock does not.
//
//   EngineProfile LANGUAGE BYTES      (ROUNDS in the environment, default 60)

let arguments = CommandLine.arguments
guard arguments.count == 3, let targetBytes = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: EngineProfile ja|en BYTES\n".utf8))
    exit(2)
}
let language = arguments[1]
let rounds = Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "") ?? 60
let engine = ScreeningEngine(policy: .builtIn())
let records = corpusRecords(language: language, targetBytes: targetBytes)
let clock = ContinuousClock()

/// The CPU time this thread has used so far.
func threadCPUTime() -> Duration {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
}

/// The CPU time the virtual machine's cores have waited for the host so far (`steal` in
/// /proc/stat), 0 where it is not reported.
func stolenTime() -> Duration {
    guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
        let line = stat.split(separator: "\n").first, line.hasPrefix("cpu "),
        let ticks = line.split(separator: " ").dropFirst().dropFirst(7).first.flatMap({ Int64($0) })
    else { return .zero }
    return .milliseconds(ticks * 1000 / Int64(sysconf(Int32(_SC_CLK_TCK))))
}

/// The time of one screen of `record`: on the wall clock and on the thread's CPU clock.
func timeScreen(_ record: DemandRecord) -> (wall: Duration, cpu: Duration) {
    let cpuStarted = threadCPUTime()
    let started = clock.now
    let result = engine.screen(record)
    let elapsed = clock.now - started
    let cpu = threadCPUTime() - cpuStarted
    withExtendedLifetime(result) {}
    return (elapsed, cpu)
}

var best = [Duration](repeating: .seconds(3600), count: records.count)
var all: [Duration] = []
all.reserveCapacity(rounds * records.count)
var allCPU: [Duration] = []
allCPU.reserveCapacity(rounds * records.count)
let stolenBefore = stolenTime()
let wallBefore = clock.now
for _ in 0..<rounds {
    for (index, record) in records.enumerated() {
        let (elapsed, cpu) = timeScreen(record)
        best[index] = min(best[index], elapsed)
        all.append(elapsed)
        allCPU.append(cpu)
    }
}

func microseconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    return String(format: "%.1f", Double(seconds) * 1e6 + Double(attoseconds) / 1e12)
}

func milliseconds(_ duration: Duration) -> String {
    String(format: "%.0f", Double(duration / .milliseconds(1)))
}

func percentiles(_ durations: [Duration]) -> String {
    let sorted = durations.sorted()
    guard !sorted.isEmpty else { return "none" }
    return [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)].map { name, fraction in
        "\(name) \(microseconds(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]))"
    }.joined(separator: "  ")
}

let transcriptBytes = records.map { record in record.utterances.map(\.text.utf8.count).reduce(0, +) }
let averageBytes = transcriptBytes.reduce(0, +) / records.count
print("\(records.count) \(language) records of \(averageBytes) B on average, \(rounds) rounds (µs)")
let stolen = stolenTime() - stolenBefore
print("every run:           \(percentiles(all))")
print("  on the CPU clock:  \(percentiles(allCPU))")
print("each record's best:  \(percentiles(best))")
print("steal while they ran: \(milliseconds(stolen)) ms of the VM's cores in \(milliseconds(clock.now - wallBefore)) ms")
print("slowest records by best time:")
for (index, duration) in best.enumerated().sorted(by: { $0.element > $1.element }).prefix(5) {
    let result = engine.screen(records[index])
    let evidence = result.signals.reduce(0) { $0 + $1.evidence.count }
    print(
        "  \(microseconds(duration))  \(records[index].recordID): \(records[index].utterances.count) utterances, \(result.signals.count) signals, \(evidence) evidence"
    )
}

if rounds > 1 {
    let fixed = records[0]
    let repeated = (0..<all.count).map { _ in timeScreen(fixed) }
    print("machine reference, \(fixed.recordID) screened \(repeated.count) times in a row:")
    print("  best \(microseconds(repeated.map(\.wall).min()!))  \(percentiles(repeated.map(\.wall)))")
    print("  on the CPU clock:  \(percentiles(repeated.map(\.cpu)))")
}
