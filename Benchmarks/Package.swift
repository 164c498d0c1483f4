// swift-tools-version: 6.1
import PackageDescription

// Benchmarks of the screening engine alone (no I/O): run with Scripts/bench.sh.
let package = Package(
    name: "DemandScreenBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "DemandScreen", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
    ],
    targets: [
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ScreeningEngine", package: "DemandScreen"),
                .product(name: "DemandScreenAPI", package: "DemandScreen"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "EngineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
