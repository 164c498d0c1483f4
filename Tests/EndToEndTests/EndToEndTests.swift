import DemandScreenAPI
import DemandScreenTestSupport
import Foundation
import SwiftProtobuf
import Testing

/// The real daemon and the real CLI, over TLS on loopback, as a user runs them.
@Suite(.serialized) struct EndToEndTests {
    @Test func screeningRoundTripWithTheRealCLI() async throws {
        let data = try temporaryDirectory()
        let daemon = try DaemonProcess(arguments: ["--port", "0"], dataDirectory: data)
        let port = try #require(try await daemon.waitUntilReady(), "daemon did not start: \(daemon.output)")
        let server = ["--server", "127.0.0.1:\(port)"]

        // The CLI finds the CA and the token in the data folder by itself.
        for file in ["dev-ca.pem", "agent.token", "security.token"] {
            #expect(FileManager.default.fileExists(atPath: data + "/" + file))
        }
        let tokenMode = try FileManager.default.attributesOfItem(atPath: data + "/agent.token")[.posixPermissions] as? Int
        #expect(tokenMode == 0o600)

        let health = try await runCLI(["health"] + server, dataDirectory: data)
        #expect(health.status == 0, "\(health.stderr)")
        #expect(health.stdout == "SERVING\n")

        let legitimate = try await runCLI(["screen", PackagePaths.example("gift-delivered-early.json")] + server, dataDirectory: data)
        #expect(legitimate.status == 0, "\(legitimate.stderr)")
        let legitimateResult = try ScreeningResult(jsonString: try #require(legitimate.lines.first))
        #expect(legitimateResult.recordID == "rec-2026-12-01-0001")
        #expect(legitimateResult.verdict == .legitimateClaim)
        #expect(legitimateResult.criteria.count == 5)
        #expect(legitimateResult.actions == [.resolve])

        let unjust = try await runCLI(["screen", PackagePaths.example("kneeling-and-exposure.json")] + server, dataDirectory: data)
        #expect(unjust.status == 0, "\(unjust.stderr)")
        let unjustResult = try ScreeningResult(jsonString: try #require(unjust.lines.first))
        #expect(unjustResult.verdict == .unjustDemand)
        let kinds = Set(unjustResult.signals.map(\.kind))
        #expect(kinds.isSuperset(of: [.signalCoercion, .signalThreatExposure, .signalProlongedContact]))
        #expect(unjustResult.actions.contains(.declineWrittenStatement))
        #expect(unjustResult.actions.contains(.verifyFacts), "facts are unknown in this record")

        // JSON lines from standard input, sent pipelined: one result line per record.
        var lines: [String] = []
        for name in ["gift-delivered-early.json", "kneeling-and-exposure.json", "billing-double-charge-en.json"] {
            let record = try DemandRecord(jsonString: try String(contentsOfFile: PackagePaths.example(name), encoding: .utf8))
            lines.append(try record.jsonString())
        }
        let batch = try await runCLI(["screen", "-"] + server, dataDirectory: data, stdin: lines.joined(separator: "\n"))
        #expect(batch.status == 0, "\(batch.stderr)")
        let ids = Set(try batch.lines.map { try ScreeningResult(jsonString: $0).recordID })
        #expect(ids == ["rec-2026-12-01-0001", "rec-2026-12-01-0002", "rec-2026-12-01-0003"])
        // One call in flight: the window is refilled answer by answer, so the answers come in order.
        let oneAtATime = try await runCLI(
            ["screen", "-", "--in-flight", "1"] + server, dataDirectory: data, stdin: lines.joined(separator: "\n"))
        #expect(oneAtATime.status == 0, "\(oneAtATime.stderr)")
        #expect(
            try oneAtATime.lines.map { try ScreeningResult(jsonString: $0).recordID } == [
                "rec-2026-12-01-0001", "rec-2026-12-01-0002", "rec-2026-12-01-0003",
            ])
        let noWindow = try await runCLI(
            ["screen", "-", "--in-flight", "0"] + server, dataDirectory: data, stdin: lines.joined(separator: "\n"))
        #expect(noWindow.status == 64)
        #expect(noWindow.stderr.contains("--in-flight must be at least 1"))

        let text = try await runCLI(
            ["screen", PackagePaths.example("billing-double-charge-en.json"), "--format", "text"] + server, dataDirectory: data)
        #expect(text.stdout.hasPrefix("rec-2026-12-01-0003: VERDICT_LEGITIMATE_CLAIM"))

        let wrongToken = try await runCLI(
            ["screen", PackagePaths.example("gift-delivered-early.json"), "--token", "nope"] + server, dataDirectory: data)
        #expect(wrongToken.status == 1)
        #expect(wrongToken.stderr.contains("UNAUTHENTICATED"))

        let badRecord = try await runCLI(
            ["screen", "-"] + server, dataDirectory: data,
            stdin: #"{"recordId": "x", "utterances": [{"speaker": "SPEAKER_CUSTOMER", "text": "hi"}]}"#)
        #expect(badRecord.status == 1)
        #expect(badRecord.stderr.contains("INVALID_ARGUMENT") && badRecord.stderr.contains("claimantId"))

        let notJSON = try await runCLI(["screen", "-"] + server, dataDirectory: data, stdin: "this is not json")
        #expect(notJSON.status == 1)
        #expect(notJSON.stderr.contains("-:1"))

        #expect(try await daemon.stop() == 0, "\(daemon.output)")
        let unreachable = try await runCLI(["health"] + server, dataDirectory: data)
        #expect(unreachable.status == 3)
        #expect(unreachable.stderr.contains("cannot connect"))
    }

    @Test func embeddedDefaultNeedsNoFlags() async throws {
        let data = try temporaryDirectory()
        let daemon = try DaemonProcess(arguments: [], dataDirectory: data)
        let port = try #require(try await daemon.waitUntilReady(), "daemon did not start: \(daemon.output)")
        #expect(port == 7443)
        let health = try await runCLI(["health"], dataDirectory: data)
        #expect(health.stdout == "SERVING\n", "\(health.stderr)")
        let screen = try await runCLI(["screen", PackagePaths.example("gift-delivered-early.json")], dataDirectory: data)
        #expect(screen.status == 0, "\(screen.stderr)")
        #expect(try await daemon.stop() == 0)
        // A second start reuses the CA and tokens of the first.
        let token = try String(contentsOfFile: data + "/agent.token", encoding: .utf8)
        let again = try DaemonProcess(arguments: ["--port", "0"], dataDirectory: data)
        _ = try #require(try await again.waitUntilReady())
        #expect(try String(contentsOfFile: data + "/agent.token", encoding: .utf8) == token)
        try await again.stop()
    }

    @Test func startupProblemsAreNamedAndFatal() async throws {
        let data = try temporaryDirectory()
        let plaintext = try DaemonProcess(arguments: ["--insecure-plaintext", "--host", "0.0.0.0", "--port", "0"], dataDirectory: data)
        #expect(try await plaintext.waitForExit() == 78)
        #expect(plaintext.output.contains("loopback"))

        let brokenPolicy = data + "/broken.yaml"
        try "version: \"x\"\nweights:\n  responsibility: lots\n".write(toFile: brokenPolicy, atomically: true, encoding: .utf8)
        let policy = try DaemonProcess(arguments: ["--policy-file", brokenPolicy, "--port", "0"], dataDirectory: data)
        #expect(try await policy.waitForExit() == 78)
        #expect(policy.output.contains("line 3"), "\(policy.output)")

        let badPort = try DaemonProcess(arguments: ["--port", "70000"], dataDirectory: data)
        #expect(try await badPort.waitForExit() == 78)
        #expect(badPort.output.contains("listen.port"))

        let noDictionary = try DaemonProcess(arguments: ["--mecab-dictionary", data + "/no-such-dic", "--port", "0"], dataDirectory: data)
        #expect(try await noDictionary.waitForExit() == 78)
        #expect(noDictionary.output.contains("judgment.mecabDictionary"), "\(noDictionary.output)")
        #expect(noDictionary.output.contains(data + "/no-such-dic"), "\(noDictionary.output)")

        let brokenModel = data + "/model.json"
        try #"{"format": 1}"#.write(toFile: brokenModel, atomically: true, encoding: .utf8)
        let model = try DaemonProcess(arguments: ["--threat-model", brokenModel, "--port", "0"], dataDirectory: data)
        #expect(try await model.waitForExit() == 78)
        #expect(model.output.contains("judgment.threatModel"), "\(model.output)")
        #expect(model.output.contains(brokenModel), "\(model.output)")
    }

    @Test func policyReloadsOnSIGHUPAndABrokenOneIsRefused() async throws {
        let data = try temporaryDirectory()
        let policyFile = data + "/policy.yaml"
        let defaultPolicy = try await runCLI(["policy", "default"], dataDirectory: data).stdout
        try defaultPolicy.write(toFile: policyFile, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(arguments: ["--port", "0", "--policy-file", policyFile], dataDirectory: data)
        let port = try #require(try await daemon.waitUntilReady(), "\(daemon.output)")
        let server = ["--server", "127.0.0.1:\(port)"]
        func version() async throws -> String {
            let file = try freshExample("gift-delivered-early.json", in: data)
            let output = try await runCLI(["screen", file] + server, dataDirectory: data)
            return try ScreeningResult(jsonString: try #require(output.lines.first)).policyVersion
        }
        #expect(try await version() == "builtin-2026.12.8.1")

        let renamed = defaultPolicy.replacingOccurrences(of: "version: \"builtin-2026.12.8.1\"", with: "version: \"site-2\"")
        try renamed.write(toFile: policyFile, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try await waitFor { daemon.output.contains("policy reloaded") }
        #expect(try await version() == "site-2")

        try (renamed + "\nnot: [valid\n").write(toFile: policyFile, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try await waitFor { daemon.output.contains("policy reload refused") }
        #expect(try await version() == "site-2")
        #expect(try await daemon.stop() == 0)
    }

    @Test func evaluateRunsTheEngineWithoutAServer() async throws {
        let data = try temporaryDirectory()
        var lines: [String] = []
        for name in ["gift-delivered-early.json", "kneeling-and-exposure.json"] {
            let record = try DemandRecord(jsonString: try String(contentsOfFile: PackagePaths.example(name), encoding: .utf8))
            lines.append(try record.jsonString())
        }
        let file = data + "/records.jsonl"
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let output = try await runCLI(["evaluate", file], dataDirectory: data)
        #expect(output.status == 0, "\(output.stderr)")
        let verdicts = try output.lines.map { try ScreeningResult(jsonString: $0).verdict }
        #expect(verdicts == [.legitimateClaim, .unjustDemand])
        // Japanese evidence reads as Japanese, not as \u escapes.
        #expect(output.stdout.contains("土下座"))
        #expect(!output.stdout.contains("\\u"))
    }

    /// A site trains its own threat model on labeled contacts and sentences, tries it with
    /// `evaluate --threat-model`, and a bad line or model file is named.
    @Test func aSiteTrainsAThreatModelAndEvaluatesWithIt() async throws {
        let data = try temporaryDirectory()
        func contact(_ id: String, _ text: String, threat: Bool) throws -> String {
            let record = sampleRecord(id: id, text: text)
            let verdict = threat ? "VERDICT_UNJUST_DEMAND" : "VERDICT_LEGITIMATE_CLAIM"
            let signals = threat ? #"["SIGNAL_THREAT_EXPOSURE"]"# : "[]"
            return #"{"record": \#(try record.jsonString()), "label": {"verdict": "\#(verdict)", "signals": \#(signals)}}"#
        }
        // A site's own menace: "the green folder" is what its harassers say.
        let contacts = [
            try contact("t-1", "The green folder goes out tonight.", threat: true),
            try contact("t-2", "Remember the green folder, I still have it.", threat: true),
            try contact("n-1", "The parcel came late, please refund the fee.", threat: false),
            try contact("n-2", "My parcel is late again, when will it come?", threat: false),
        ]
        let sentences = [
            #"{"id": "s-1", "language": "en", "text": "the green folder is ready", "label": "threat"}"#,
            #"{"id": "s-2", "language": "en", "text": "the late parcel is here", "label": "clean"}"#,
        ]
        try contacts.joined(separator: "\n").write(toFile: data + "/contacts.jsonl", atomically: true, encoding: .utf8)
        try sentences.joined(separator: "\n").write(toFile: data + "/sentences.jsonl", atomically: true, encoding: .utf8)
        let model = data + "/model.json"
        let trained = try await runCLI(
            ["model", "train", "--out", model, "--cross-validate", data + "/contacts.jsonl", data + "/sentences.jsonl"], dataDirectory: data
        )
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("leave one file out (2 files): 2 threat contacts, 2 legitimate claims"), "\(trained.stdout)")
        // The policy's probabilities by the built-in rules, from the same figures.
        #expect(trained.stdout.contains("medium (lowest with <= 1 % legitimate and <= 3 % clean flagged): "), "\(trained.stdout)")

        let policy = data + "/policy.yaml"
        try await runCLI(["policy", "default"], dataDirectory: data).stdout
            .replacingOccurrences(of: #"  medium: 0\.\d+\n"#, with: "  medium: 0.6\n", options: .regularExpression)
            .replacingOccurrences(of: #"  high: 0\.\d+\n"#, with: "  high: 0.6\n", options: .regularExpression)
            .write(toFile: policy, atomically: true, encoding: .utf8)
        let record = try contact("new", "So. The green folder.", threat: true)
        let output = try await runCLI(
            ["evaluate", "--labels", "inline", "--policy", policy, "--threat-model", model, "-"], dataDirectory: data, stdin: record)
        #expect(output.status == 0, "\(output.stderr)")
        // Judged as labeled (exposure, unjust) with the site's model; not with the built-in one.
        #expect(!output.stdout.contains("differing from their labels"), "\(output.stdout)")
        let scored = try await runCLI(["model", "score", "--threat-model", model, "-"], dataDirectory: data, stdin: record)
        let threat = try #require(scored.stdout.split(separator: " ").first { $0.hasPrefix("threat=") }?.dropFirst(7))
        #expect(scored.stdout.hasPrefix("new threat="), "\(scored.stdout)")
        #expect(try #require(Double(threat)) > 0.6, "\(scored.stdout)")
        let builtIn = try await runCLI(["evaluate", "--labels", "inline", "--policy", policy, "-"], dataDirectory: data, stdin: record)
        #expect(builtIn.stdout.contains("differing from their labels"), "\(builtIn.stdout)")

        let badLine = try await runCLI(
            ["model", "train", "--out", model, "-"], dataDirectory: data, stdin: contacts[0] + "\n{\"text\": 1}")
        #expect(badLine.status == 2)
        #expect(badLine.stderr.contains("-:2: a line must be a contact"), "\(badLine.stderr)")
        // A model needs both kinds of line, and sound options; a model on standard output keeps
        // the figures off it.
        let oneClass = try await runCLI(["model", "train", "--out", model, "-"], dataDirectory: data, stdin: contacts[0])
        #expect(oneClass.status == 2)
        #expect(oneClass.stderr.contains("1 threats in 1 lines"), "\(oneClass.stderr)")
        for options in [["--iterations", "0"], ["--regularization", "nan"], ["--cross-validate"]] {
            let refused = try await runCLI(["model", "train", "--out", model] + options + [data + "/contacts.jsonl"], dataDirectory: data)
            #expect(refused.status == 64, "\(options): \(refused.stderr)")
        }
        let toStandardOutput = try await runCLI(
            ["model", "train", "--out", "-", "--cross-validate", data + "/contacts.jsonl", data + "/sentences.jsonl"], dataDirectory: data)
        #expect(toStandardOutput.status == 0, "\(toStandardOutput.stderr)")
        #expect(try JSONSerialization.jsonObject(with: Data(toStandardOutput.stdout.utf8)) is [String: Any])
        #expect(toStandardOutput.stderr.contains("leave one file out"), "\(toStandardOutput.stderr)")

        let badModel = try await runCLI(["evaluate", "--threat-model", data + "/contacts.jsonl", "-"], dataDirectory: data, stdin: record)
        #expect(badModel.status == 2)
        #expect(badModel.stderr.contains("threat model: \(data)/contacts.jsonl: not a threat model"), "\(badModel.stderr)")
    }

    @Test func aBadRecordLineSaysWhereItIsWrong() async throws {
        let data = try temporaryDirectory()
        let good = try DemandRecord(
            jsonString: try String(contentsOfFile: PackagePaths.example("gift-delivered-early.json"), encoding: .utf8))
        let lines = [
            #"{"recordId": "r-1", "utterances": [{"speaker": "SPEAKER_CUSTOMER", "text": "a"}, {"speaker": "SPEAKER_BOSS", "text": "b"}]}"#,
            #"{"recordId": "r-2", "utterances": [{"speaker": "SPEAKER_CUSTOMER", "txt": "a"}]}"#,
            #"{"recordId": "r-3", "receivedAtUnixMs": "yesterday"}"#,
            #"{"recordId": "r-4", claimantId: "c"}"#,
            #"{"recordId": "r-5", "incidnet": {"category": "INCIDENT_DELIVERY"}}"#,
            try good.jsonString(),
        ]
        let output = try await runCLI(["evaluate", "-"], dataDirectory: data, stdin: lines.joined(separator: "\n"))
        #expect(output.status != 0)
        #expect(output.stderr.contains(#"-:1: utterances[1].speaker: "SPEAKER_BOSS" is not one of the field's values"#), "\(output.stderr)")
        #expect(output.stderr.contains("-:2: utterances[0]: there is no field 'txt'"), "\(output.stderr)")
        #expect(output.stderr.contains(#"-:3: receivedAtUnixMs: "yesterday" is not valid here"#), "\(output.stderr)")
        #expect(output.stderr.contains("-:4: not JSON: "), "\(output.stderr)")
        #expect(output.stderr.contains("-:5: the record: there is no field 'incidnet'"), "\(output.stderr)")
        // The good record is still screened.
        #expect(try output.lines.map { try ScreeningResult(jsonString: $0).recordID } == [good.recordID])
    }

    @Test func recordsOnePerLineInAJSONFileAreReadAsLines() async throws {
        let data = try temporaryDirectory()
        let good = try DemandRecord(
            jsonString: try String(contentsOfFile: PackagePaths.example("gift-delivered-early.json"), encoding: .utf8))
        var second = good
        second.recordID = "second"
        var bad = good
        bad.recordID = "bad"
        let badLine = try bad.jsonString().replacingOccurrences(of: "SPEAKER_CUSTOMER", with: "SPEAKER_BOSS")
        let file = data + "/records.json"
        try ["# records exported from the call log", try good.jsonString(), try second.jsonString(), badLine].joined(separator: "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let output = try await runCLI(["evaluate", file], dataDirectory: data)
        #expect(output.status != 0)
        #expect(output.stderr.contains("\(file):1: not JSON"), "\(output.stderr)")
        #expect(output.stderr.contains("\(file):4: utterances["), "\(output.stderr)")
        #expect(try output.lines.map { try ScreeningResult(jsonString: $0).recordID } == [good.recordID, "second"])
        // One pretty-printed record with a fault is still one record with one error.
        let pretty = data + "/pretty.json"
        let prettyText =
            "{\n  \"recordId\": \"p-1\"\n  \"utterances\": [\n    {\"speaker\": \"SPEAKER_CUSTOMER\", \"text\": \"a\"}\n  ]\n}\n"
        try prettyText.write(toFile: pretty, atomically: true, encoding: .utf8)
        let prettyOutput = try await runCLI(["evaluate", pretty], dataDirectory: data)
        #expect(prettyOutput.status != 0)
        #expect(prettyOutput.stderr.contains("\(pretty):1: not JSON"), "\(prettyOutput.stderr)")
        #expect(!prettyOutput.stderr.contains("\(pretty):4:"), "\(prettyOutput.stderr)")
    }

}
