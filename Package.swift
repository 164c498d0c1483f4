// swift-tools-version: 6.1
import PackageDescription

// The dependency graph is the architecture: the engine never sees NIO, the server never sees
// the screening messages, and only the daemon assembles everything.
let package = Package(
    name: "DemandScreen",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "demandscreend", targets: ["demandscreend"]),
        .executable(name: "demandscreen", targets: ["demandscreen"]),
        .library(name: "ScreeningEngine", targets: ["ScreeningEngine"]),
        .library(name: "Morphology", targets: ["Morphology"]),
        .library(name: "DemandScreenAPI", targets: ["DemandScreenAPI"]),
        .library(name: "DemandScreenClient", targets: ["DemandScreenClient"]),
        .library(name: "DemandScreenStorage", targets: ["DemandScreenStorage"]),
        // For the fuzz targets in Fuzz/ (a package of its own).
        .library(name: "DemandScreenWire", targets: ["DemandScreenWire"]),
        .library(name: "ResponseTemplates", targets: ["ResponseTemplates"]),
        // For the transport's ceiling in Benchmarks/ (a package of its own).
        .library(name: "DemandScreenServer", targets: ["DemandScreenServer", "DemandScreenRPC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // The contract's values: messages generated from Protos/demandscreen/v1/screening.proto
        // and grpc/health/v1/health.proto.
        .target(
            name: "DemandScreenAPI",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // The core of a call, with no transport: status codes and call errors, roles and caller
        // identities, bearer tokens, the call context and the method router. The server and the
        // service both build on it; the CLI uses it for tokens without linking the server.
        .target(
            name: "DemandScreenRPC",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Frames and envelopes: bytes only.
        .target(
            name: "DemandScreenWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // MeCab's C API (Debian's libmecab-dev) and Snowball's stemmers (libstemmer-dev).
        .systemLibrary(name: "CMeCab", providers: [.apt(["libmecab-dev", "mecab-ipadic-utf8"])]),
        .systemLibrary(name: "CStemmer", providers: [.apt(["libstemmer-dev"])]),
        // Words: Japanese through MeCab, English stemmed, each token with its place in the text.
        .target(name: "Morphology", dependencies: ["CMeCab", "CStemmer"]),
        // The screening judgment: criteria, detectors, the four elements, the policy. No I/O.
        .target(
            name: "ScreeningEngine",
            dependencies: [
                "DemandScreenAPI",
                "DemandScreenRPC",
                "Morphology",
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources/default-policy.yaml"), .copy("Resources/threat-model.json")]
        ),
        // The record of every contact, claimant history, risk flags and notes: one protocol,
        // SQLite (embedded default) and PostgreSQL (shared by many daemons).
        .target(
            name: "DemandScreenStorage",
            dependencies: [
                "DemandScreenAPI",
                "DemandScreenRPC",
                "ScreeningEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Written responses: Mustache templates per verdict, fault finding and channel family, the
        // agent notes, and the safety check that keeps every response from admitting what was not
        // found. No I/O beyond reading the template folders.
        .target(
            name: "ResponseTemplates",
            dependencies: [
                "DemandScreenAPI",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources/Templates")]
        ),
        // Where the embedded default keeps its files and listens; shared by daemon and CLI.
        .target(name: "EmbeddedDefaults"),
        // The TLS TCP server: bootstrap, connection loop, limits, roles, method router.
        .target(
            name: "DemandScreenServer",
            dependencies: [
                "DemandScreenRPC",
                "DemandScreenWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The operators' HTTP port: liveness, readiness and Prometheus metrics.
        .target(
            name: "DemandScreenOps",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The Screening and Health handlers: decode, screen, encode.
        .target(
            name: "DemandScreenService",
            dependencies: [
                "DemandScreenRPC",
                "DemandScreenAPI",
                "ScreeningEngine",
                "DemandScreenStorage",
                "ResponseTemplates",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // A TLS client with pipelining, for the CLI, tests and benchmarks.
        .target(
            name: "DemandScreenClient",
            dependencies: [
                "DemandScreenRPC",
                "DemandScreenWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Configuration, the development PKI and assembly of the daemon's services.
        .target(
            name: "DemandScreenDaemon",
            dependencies: [
                "DemandScreenRPC",
                "DemandScreenServer",
                "DemandScreenService",
                "DemandScreenStorage",
                "DemandScreenOps",
                "ScreeningEngine",
                "Morphology",
                "ResponseTemplates",
                "EmbeddedDefaults",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "demandscreend",
            dependencies: [
                "DemandScreenDaemon",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "demandscreen",
            dependencies: [
                "DemandScreenClient",
                "DemandScreenAPI",
                "ScreeningEngine",
                "Morphology",
                "ResponseTemplates",
                "EmbeddedDefaults",
                "DemandScreenRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(
            name: "DemandScreenWireTests",
            dependencies: [
                "DemandScreenWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MorphologyTests",
            dependencies: ["Morphology"]
        ),
        .testTarget(
            name: "ScreeningEngineTests",
            dependencies: [
                "ScreeningEngine",
                "Morphology",
                "DemandScreenAPI",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Corpus"]
        ),
        .testTarget(
            name: "ResponseTemplatesTests",
            dependencies: [
                "ResponseTemplates",
                "ScreeningEngine",
                "DemandScreenAPI",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(
            name: "DemandScreenServerTests",
            dependencies: [
                "DemandScreenRPC",
                "DemandScreenTestSupport",
                .product(name: "Configuration", package: "swift-configuration"),
                "DemandScreenServer",
                "DemandScreenService",
                "DemandScreenClient",
                "DemandScreenDaemon",
                "DemandScreenWire",
                "DemandScreenAPI",
                "ScreeningEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Shared by the test suites: PostgreSQL servers and databases for the tests.
        .target(
            name: "DemandScreenTestSupport",
            dependencies: [
                "DemandScreenAPI",
                "DemandScreenStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/DemandScreenTestSupport"
        ),
        .testTarget(
            name: "DemandScreenStorageTests",
            dependencies: [
                "DemandScreenStorage",
                "DemandScreenTestSupport",
                "ScreeningEngine",
                "DemandScreenAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "demandscreend",
                "demandscreen",
                "DemandScreenTestSupport",
                "DemandScreenClient",
                "DemandScreenRPC",
                "DemandScreenAPI",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
