import Benchmark
import BenchmarkRecords
import DemandScreenAPI
import Foundation
import ScreeningEngine

/// Each record's own screening time in nanoseconds, timed inside the sample: the other metrics
/// are per sample of 1 000 records, so their p99 is one of averages.
let singleRecordNanoseconds = BenchmarkMetric.custom("single record (ns)", useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    let engine = ScreeningEngine(policy: .builtIn())
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .cpuTotal, .mallocCountTotal, .instructions, singleRecordNanoseconds],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 100_000,
        // Allocations are exact and repeatable: a 5% rise fails `benchmark thresholds check`
        // (Thresholds/ holds only mallocCountTotal), and so does a 5% fall (record the new counts).
        // No absolute tolerance: a sample sums 1 000 records, whose counts differ by which records
        // fall into it. Times on this shared machine are not repeatable, so they are reported, not
        // checked. Names have no spaces: the threshold files are named after them.
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 5.0])])

    for (language, size) in [("ja", 4096), ("ja", 1024), ("en", 4096), ("en", 1024)] {
        let records = corpusRecords(language: language, targetBytes: size)
        Benchmark("screen_\(language)_\(size / 1024)KB") { benchmark in
            var index = 0
            let clock = ContinuousClock()
            for _ in benchmark.scaledIterations {
                let started = clock.now
                blackHole(engine.screen(records[index]))
                let elapsed = (clock.now - started).components
                benchmark.measurement(
                    singleRecordNanoseconds, Int(elapsed.seconds) * 1_000_000_000 + Int(elapsed.attoseconds / 1_000_000_000))
                index = index == records.count - 1 ? 0 : index + 1
            }
        }
    }

    Benchmark(
        "compile_builtin_policy",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .one, maxIterations: 200)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ScreeningEngine(policy: .builtIn()))
        }
    }
}
