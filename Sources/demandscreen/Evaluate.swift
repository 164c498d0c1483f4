import ArgumentParser
import DemandScreenAPI
import Foundation
import Morphology
import ResponseTemplates
import ScreeningEngine
import SwiftProtobuf

/// `demandscreen evaluate`: the screening engine in-process, with no server, over past records.
struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Screen records in-process with a policy, to try it before deploying it.",
        discussion: """
            Prints one ScreeningResult per record, in order, as protobuf JSON on one line. The records are \
            replayed in order through a fresh in-memory history, so repeated contact and recurring issues \
            come out as the daemon would raise them. Each result carries the written \
            response the daemon would send (--templates-directory previews an operator's templates). With --labels, \
            prints instead how the results compare with the labels: the verdict confusion matrix, verdict \
            accuracy, the rate of legitimate claims judged unjust, threat recall, per-signal precision and \
            recall, and every record that differs from its label.
            """)

    @Argument(help: "A .jsonl file (or -) with one DemandRecord per line, or one JSON record.") var file: String
    @Option(help: "A policy YAML (default: the built-in policy).") var policy: String?
    @Option(help: "json (default) or text.") var format: OutputFormat = .json
    @Option(help: "A folder of response templates laid over the built-in ones, as the daemon's templates.directory.")
    var templatesDirectory: String?
    @Option(
        help: """
            A JSON-lines file of {"recordId", "verdict", "signals"} labels, or "inline" when each input \
            line is {"record": {…}, "label": {"verdict", "signals"}}.
            """)
    var labels: String?

    @Option(help: "The MeCab dictionary folder (default /var/lib/mecab/dic/ipadic-utf8).") var mecabDictionary: String?
    @Option(help: "A threat model from 'demandscreen model train' (default: the built-in one), as the daemon's judgment.threatModel.")
    var threatModel: String?

    func run() async throws {
        let engine = ScreeningEngine(
            policy: try loadPolicy(), analyzer: try loadAnalyzer(mecabDictionary), threatModel: try loadThreatModel(threatModel))
        if let threatModel, engine.policy.threatModel == nil {
            printError("warning: the policy has no threatModel section: \(threatModel) is not used")
        }
        let writer = ResponseWriter(templates: try loadTemplates())
        var labelsByRecord = try labels.flatMap { $0 == "inline" ? nil : try Self.readLabels($0) } ?? [:]
        var report = EvaluationReport()
        // Replayed in order through a fresh history, so that history signals come out as the
        // daemon would raise them.
        var history = HistoryBook()
        var failed = false
        for input in try RecordInput.read(file) {
            let record: DemandRecord
            do {
                let (parsed, inlineLabel) = try Self.parse(input.json, inlineLabels: labels == "inline")
                record = parsed
                try record.validate()
                if let inlineLabel { labelsByRecord[record.recordID] = inlineLabel }
            } catch {
                printError("\(file):\(input.line): \(error)")
                failed = true
                continue
            }
            let at = record.receivedAtUnixMs > 0 ? record.receivedAtUnixMs : Int64(Date().timeIntervalSince1970 * 1000)
            let result = history.screen(record, at: at, policy: engine.policy) { claimantHistory in
                var result = engine.screen(record, history: claimantHistory)
                let written = writer.compose(record: record, result: result)
                result.response = written.response
                if let reason = written.fallbackReason {
                    printError(
                        "\(file):\(input.line): record '\(record.recordID)': response template refused, the fallback was used: \(reason)")
                }
                return result
            }
            if labels == nil {
                print(try format.render(result))
            } else if let label = labelsByRecord[record.recordID] {
                report.add(result, label: label)
            } else {
                printError("\(file):\(input.line): record '\(record.recordID)' has no label")
                failed = true
            }
        }
        if labels != nil {
            print(report.text)
            if !report.mismatches.isEmpty {
                print("\ndiffering from their labels:")
                for (label, result) in report.mismatches {
                    let expected = label.signals.map(\.protoName).sorted().joined(separator: ",")
                    let judged = result.signals.map(\.kind.protoName).sorted().joined(separator: ",")
                    print(
                        "  \(label.recordID): expected \(label.verdict.protoName) [\(expected)], judged \(result.verdict.protoName) [\(judged)]"
                    )
                }
            }
        }
        if failed { throw ExitStatus.callFailed }
    }

    private func loadTemplates() throws -> ResponseTemplateSet {
        do {
            return try ResponseTemplateSet(overrideDirectory: templatesDirectory)
        } catch {
            printError("response templates: \(error)")
            throw ExitStatus.badInput
        }
    }

    private func loadPolicy() throws -> ScreeningPolicy {
        guard let policy else { return .builtIn() }
        do {
            return try ScreeningPolicy(yaml: try String(contentsOfFile: policy, encoding: .utf8))
        } catch let error as PolicyError {
            printError("\(policy): \(error)")
            throw ExitStatus.badInput
        } catch {
            printError("cannot read \(policy): \(error.localizedDescription)")
            throw ExitStatus.badInput
        }
    }

    /// A record line, and its label when labels are inline.
    static func parse(_ line: String, inlineLabels: Bool) throws -> (DemandRecord, RecordLabel?) {
        guard inlineLabels else { return (try RecordJSON.decode(line), nil) }
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let recordObject = object["record"], let labelObject = object["label"] as? [String: Any]
        else {
            throw LabelError("with --labels inline each line must be {\"record\": {…}, \"label\": {…}}")
        }
        let recordJSON = String(decoding: try JSONSerialization.data(withJSONObject: recordObject), as: UTF8.self)
        let record = try RecordJSON.decode(recordJSON)
        return (record, try RecordLabel(json: labelObject, recordID: record.recordID))
    }

    static func readLabels(_ path: String) throws -> [String: RecordLabel] {
        var labels: [String: RecordLabel] = [:]
        for input in try RecordInput.read(path, asJSONLines: true) {
            do {
                guard let object = try JSONSerialization.jsonObject(with: Data(input.json.utf8)) as? [String: Any] else {
                    throw LabelError("not a JSON object")
                }
                let label = try RecordLabel(json: object)
                labels[label.recordID] = label
            } catch {
                printError("\(path):\(input.line): \(error)")
                throw ExitStatus.badInput
            }
        }
        return labels
    }
}

/// `demandscreen policy`: the built-in policy and checks of policy files.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Print the built-in policy or check a policy file.",
        subcommands: [Default.self, Check.self])

    struct Default: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the built-in policy YAML, to start your own from.")
        func run() { print(ScreeningPolicy.builtInYAML(), terminator: "") }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a policy file and compile its token patterns; prints its version, or the line and pattern at fault.")
        @Argument var file: String
        @Option(help: "The MeCab dictionary folder (default /var/lib/mecab/dic/ipadic-utf8).") var mecabDictionary: String?
        func run() throws {
            let policy: ScreeningPolicy
            let unreadable: [String]
            do {
                policy = try ScreeningPolicy(yaml: try String(contentsOfFile: file, encoding: .utf8))
                let analyzer = try TextAnalyzer.shared(dictionary: mecabDictionary ?? JapaneseAnalyzer.defaultDictionary)
                unreadable = ScreeningEngine(policy: policy, analyzer: analyzer).unreadablePatternWords
            } catch {
                printError("\(file): \(error)")
                throw ExitStatus.badInput
            }
            guard unreadable.isEmpty else {
                printError("\(file): these pattern words read as no token and can never match: \(unreadable.joined(separator: ", "))")
                throw ExitStatus.badInput
            }
            print(
                "\(file): OK, version \(policy.version), \(policy.lexicon.count) lexicon terms, \(policy.tokenPatterns.count) token patterns over \(policy.concepts.count) concepts"
            )
        }
    }
}
