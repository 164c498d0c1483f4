// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for what a hostile peer or a bad file can reach, built and run only by
// Scripts/fuzz.sh (with `-sanitize=fuzzer,address -parse-as-library`; each target defines
// `LLVMFuzzerTestOneInput`, and these executables do not link without the fuzzer flag). Seed
// corpora are in Fuzz/Corpus/<target>/.
//
// A debug build on Linux links an executable with `main` set to `<target>_main` (SwiftPM's
// testable executables), which takes the place of libFuzzer's own `main`; so each target also
// defines `<target>_main`, which hands over to libFuzzer's driver (CLibFuzzer declares it).
let package = Package(
    name: "DemandScreenFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "DemandScreen", path: "../"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(name: "CLibFuzzer"),
        // Bytes from the socket through the frame decoder, whole and split in two.
        .executableTarget(
            name: "FrameDecoderFuzz",
            dependencies: [
                "CLibFuzzer",
                .product(name: "DemandScreenWire", package: "DemandScreen"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // A frame's payload as the server and the Screen handler take it: RequestFrame, then its
        // message as a DemandRecord, then validate().
        .executableTarget(
            name: "RequestFuzz",
            dependencies: [
                "CLibFuzzer",
                .product(name: "DemandScreenWire", package: "DemandScreen"),
                .product(name: "DemandScreenAPI", package: "DemandScreen"),
                .product(name: "ScreeningEngine", package: "DemandScreen"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // A policy file's text through ScreeningPolicy(yaml:).
        .executableTarget(
            name: "PolicyFuzz",
            dependencies: ["CLibFuzzer", .product(name: "ScreeningEngine", package: "DemandScreen")]
        ),
        // A template file (first line: its path in the folder; the rest: its text) through the
        // loader's checks.
        .executableTarget(
            name: "TemplateFuzz",
            dependencies: ["CLibFuzzer", .product(name: "ResponseTemplates", package: "DemandScreen")]
        ),
    ]
)
