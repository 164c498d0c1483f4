import DemandScreenAPI
import Foundation
import SwiftProtobuf
import Testing

/// `demandscreen evaluate` replays a file through its in-memory history as the daemon screens it
/// through its store: on a file from `Scripts/generate-records.py` (the file the evaluate
/// benchmark times, here 400 records: repeated contact, standing raised by earlier flags,
/// recurring complaints), every record gets the same verdict, signals, counts and standing. The
/// history's bounds themselves are tested on both stores and in memory by `LargeHistoryTests`.
@Suite struct EvaluateEndToEndTests {
    /// What must agree between the two, one line per record.
    static func summary(_ result: ScreeningResult) -> String {
        let signals = result.signals.map { "\($0.kind.protoName):\($0.severity.protoName)" }.sorted().joined(separator: ",")
        let flags = result.claimant.activeFlags.map(\.protoName).sorted().joined(separator: ",")
        return
            "\(result.recordID) \(result.verdict.protoName) [\(signals)] 24h=\(result.claimant.contacts24H) 30d=\(result.claimant.contacts30D) \(result.claimant.riskLevel.protoName) [\(flags)]"
    }

    @Test(arguments: StorageEndToEndTests.Store.allCases)
    func evaluateAndTheDaemonAgreeOnAGeneratedFile(store: StorageEndToEndTests.Store) async throws {
        let data = try temporaryDirectory()
        let file = data + "/records.jsonl"
        _ = try await runSystemCommand(
            "/usr/bin/env", ["python3", PackagePaths.root.appendingPathComponent("Scripts/generate-records.py").path, "400", file])

        let evaluated = try await runCLI(["evaluate", file], dataDirectory: data)
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let offline = try evaluated.lines.map { Self.summary(try ScreeningResult(jsonString: $0)) }
        #expect(offline.count == 400)

        let daemon = try DaemonProcess(
            arguments: ["--port", "0", "--storage-url", try await store.url(data: data)], dataDirectory: data)
        let port = try #require(try await daemon.waitUntilReady(), "daemon did not start: \(daemon.output)")
        // One call at a time, so that each record's history holds every record before it.
        let screened = try await runCLI(["screen", file, "--in-flight", "1", "--server", "127.0.0.1:\(port)"], dataDirectory: data)
        #expect(screened.status == 0, "\(screened.stderr)")
        let online = try screened.lines.map { Self.summary(try ScreeningResult(jsonString: $0)) }
        #expect(try await daemon.stop() == 0)

        #expect(online.count == offline.count)
        for (daemonLine, evaluateLine) in zip(online, offline) where daemonLine != evaluateLine {
            Issue.record("daemon: \(daemonLine)\nevaluate: \(evaluateLine)")
        }
        // The file exercises what it is meant to: history signals on both sides.
        for kind in ["SIGNAL_REPEATED_CONTACT", "SIGNAL_RECURRING_ISSUE"] {
            #expect(offline.contains { $0.contains(kind) }, "no \(kind) in the generated file's results")
        }
        #expect(offline.contains { $0.contains("VERDICT_UNJUST_DEMAND") } && offline.contains { $0.contains("VERDICT_LEGITIMATE_CLAIM") })
    }
}
