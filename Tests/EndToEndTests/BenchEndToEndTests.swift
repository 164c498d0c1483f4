import Foundation
import Testing

/// `demandscreen bench` against the real daemon: counts what it sends, reports percentiles and
/// the server's CPU per call, and makes every call a new contact.
@Suite struct BenchEndToEndTests {
    @Test func benchSendsTheCountAndReportsLatencyAndServerCPU() async throws {
        let data = try temporaryDirectory()
        let daemon = try DaemonProcess(arguments: ["--port", "0"], dataDirectory: data)
        let port = try #require(try await daemon.waitUntilReady(), "daemon did not start: \(daemon.output)")
        let server = ["--server", "127.0.0.1:\(port)"]
        let bench = try await runCLI(
            [
                "bench", PackagePaths.example("gift-delivered-early.json"), "--count", "40", "--warmup", "0",
                "--connections", "2", "--depth", "4", "--claimants", "hot", "--server-pid", "\(daemon.process.processIdentifier)",
            ] + server, dataDirectory: data)
        #expect(bench.status == 0, "\(bench.stderr)")
        #expect(bench.stdout.contains("connections 2 × depth 4, claimants hot, 1 distinct record(s)"))
        #expect(bench.stdout.contains("calls 40 in "), "\(bench.stdout)")
        #expect(bench.stdout.contains("latency ms of the answered calls: p50 "))
        #expect(bench.stdout.contains("errors: none"))
        #expect(bench.stdout.contains("server CPU per call: "))

        // Every call was a new contact of the one hot claimant: the last ones saw the history.
        let risk = try await runCLI(["flags", "--min-risk", "LOW", "--since", "1"] + server, dataDirectory: data)
        #expect(risk.status == 0, "\(risk.stderr)")
        #expect(risk.stdout.contains("-hot"), "\(risk.stdout)")
        #expect(try await daemon.stop() == 0)
    }

    @Test func benchRefusesAnEmptyFileAndBadNumbers() async throws {
        let data = try temporaryDirectory()
        let empty = data + "/empty.jsonl"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let refused = try await runCLI(["bench", empty], dataDirectory: data)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("holds no record"))
        let badDepth = try await runCLI(["bench", empty, "--depth", "0"], dataDirectory: data)
        #expect(badDepth.status == 64)
        #expect(badDepth.stderr.contains("--connections and --depth must be at least 1"))
    }
}
