// swift-tools-version: 6.1
import PackageDescription

// Benchmarks of the screening engine alone (no I/O), run with Scripts/bench.sh; each record's own
// time and instruction count (EngineProfile, a plain executable), run with `Scripts/bench.sh
// records` and `instructions`; and the store alone (StorageBenchmarks, a plain executable), run by
// Scripts/bench-storage.sh; the judgment's text rate next to MeCab's own (JudgmentRate, run by
// `Scripts/bench.sh rate`); the engine's CPU per record on a load's records (EngineCost, run by
// Scripts/bench-load.sh), and the transport's ceiling (TransportCeiling: the daemon's server with a
// Screen method that does no work, also run by Scripts/bench-load.sh). BenchmarkRecords builds the
// records they screen from the corpus.
let package = Package(
    name: "DemandScreenBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "DemandScreen", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                "BenchmarkRecords",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ScreeningEngine", package: "DemandScreen"),
                .product(name: "DemandScreenAPI", package: "DemandScreen"),
            ],
            path: "EngineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "StorageBenchmarks",
            dependencies: [
                .product(name: "DemandScreenStorage", package: "DemandScreen"),
                .product(name: "ScreeningEngine", package: "DemandScreen"),
                .product(name: "DemandScreenAPI", package: "DemandScreen"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "StorageBenchmarks"
        ),
        .executableTarget(
            name: "JudgmentRate",
            dependencies: [
                "BenchmarkRecords",
                .product(name: "ScreeningEngine", package: "DemandScreen"),
                .product(name: "Morphology", package: "DemandScreen"),
                .product(name: "DemandScreenAPI", package: "DemandScreen"),
            ],
            path: "JudgmentRate"
        ),
        .executableTarget(
            name: "EngineProfile",
            dependencies: [
                "BenchmarkRecords",
                .product(name: "ScreeningEngine", package: "DemandScreen"),
                .product(name: "DemandScreenAPI", package: "DemandScreen"),
            ],
            path: "EngineProfile"
        ),
        .executableTarget(
            name: "EngineCost",
            dependencies: [
                .product(name: "ScreeningEngine", package: "DemandScreen"),
                .product(name: "DemandScreenAPI", package: "DemandScreen"),
            ],
            path: "EngineCost"
        ),
        .executableTarget(
            name: "TransportCeiling",
            dependencies: [
                .product(name: "DemandScreenServer", package: "DemandScreen"),
                .product(name: "DemandScreenAPI", package: "DemandScreen"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "TransportCeiling"
        ),
        .target(
            name: "BenchmarkRecords",
            dependencies: [
                .product(name: "ScreeningEngine", package: "DemandScreen"),
                .product(name: "DemandScreenAPI", package: "DemandScreen"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "BenchmarkRecords"
        ),
    ]
)
