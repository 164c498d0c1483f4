import ArgumentParser
import DemandScreenAPI
import Foundation
import Morphology
import ScreeningEngine

/// `demandscreen model`: the threat model, trained on a site's labeled contacts.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Train the threat model on labeled contacts, or see how it reads records.",
        subcommands: [Train.self, Score.self])

    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the threat model's probabilities for each record: threat at all, violence, exposure, coercion.",
            discussion: """
                Reads DemandRecords (or labeled {"record", "label"} lines) and prints one line per record: its id and \
                the four probabilities, whatever the policy's thresholds.
                """)
        @Argument(help: "A .jsonl file (or -) with one record per line.") var file: String
        @Option(help: "A threat model from 'demandscreen model train' (default: the built-in one).") var threatModel: String?
        @Option(help: "The MeCab dictionary folder (default /var/lib/mecab/dic/ipadic-utf8).") var mecabDictionary: String?

        func run() throws {
            let analyzer = try loadAnalyzer(mecabDictionary)
            let model = try loadThreatModel(threatModel) ?? .builtIn
            var failed = false
            for input in try RecordInput.read(file, asJSONLines: true) {
                do {
                    let object = try JSONSerialization.jsonObject(with: Data(input.json.utf8)) as? [String: Any]
                    let labeled = object?["record"] != nil && object?["label"] != nil
                    let record = try labeled ? Evaluate.parse(input.json, inlineLabels: true).0 : RecordJSON.decode(input.json)
                    let scores = model.scores(ContactFeatures.of(record, analyzer: analyzer))
                    print(
                        String(
                            format: "%@ threat=%.3f violence=%.3f exposure=%.3f coercion=%.3f", record.recordID, scores.threat,
                            scores.violence, scores.exposure, scores.coercion))
                } catch {
                    printError("\(file):\(input.line): \(error)")
                    failed = true
                }
            }
            if failed { throw ExitStatus.callFailed }
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the threat model on labeled contacts and write it as JSON.",
            discussion: """
                Each line of each file is a contact, {"record": {…}, "label": {"verdict", "signals"}}, or a \
                sentence said by a caller alone, {"text": "…", "language": "ja", "label": "threat"}. A contact \
                whose label has SIGNAL_THREAT_VIOLENCE or SIGNAL_THREAT_EXPOSURE is a threat, and so is a \
                sentence labeled threat or violent (of violence); other sentences (clean, abuse) are not. A \
                contact whose label has SIGNAL_COERCION teaches the coercion output. \
                With --cross-validate, also prints how models trained without each file read that file's \
                lines (leave one file out): threats caught and legitimate claims flagged among the contacts, \
                threat sentences caught and clean sentences flagged, per probability, and the probabilities \
                a policy's threatModel section takes from them.
                """)

        @Argument(help: "Labeled contact files (.jsonl), read in the order given.") var files: [String]
        @Option(help: "Where to write the model (- for standard output).") var out: String
        @Flag(help: "Also measure the model on each file with a model trained on the others.") var crossValidate = false
        @Option(help: "The L2 penalty on the weights (default 1): higher trusts single words less.") var regularization = 1.0
        @Option(help: "Gradient steps (default 400).") var iterations = 400
        @Option(help: "The MeCab dictionary folder (default /var/lib/mecab/dic/ipadic-utf8).") var mecabDictionary: String?

        struct Labeled {
            enum Kind { case legitimateClaim, otherContact, threatSentence, cleanSentence, otherSentence }
            var example: ThreatModelTrainer.Example
            var kind: Kind
            var file: Int
        }

        func run() throws {
            let analyzer = try loadAnalyzer(mecabDictionary)
            var contacts: [Labeled] = []
            var fingerprint = ThreatModel.Fingerprint()
            for (fileIndex, file) in files.enumerated() {
                for input in try RecordInput.read(file, asJSONLines: true) {
                    fingerprint.add(input.json)
                    do {
                        contacts.append(try labeled(input.json, analyzer: analyzer, file: fileIndex))
                    } catch {
                        printError("\(file):\(input.line): \(error)")
                        throw ExitStatus.badInput
                    }
                }
            }
            let examples = contacts.map(\.example)
            let threats = examples.filter(\.threat).count
            guard threats > 0, threats < examples.count else {
                printError(
                    "a model needs threats and other lines to learn from: \(threats) threats in \(examples.count) lines"
                        + " (a contact is a threat when its label has SIGNAL_THREAT_VIOLENCE or SIGNAL_THREAT_EXPOSURE)")
                throw ExitStatus.badInput
            }
            let model = ThreatModelTrainer.train(
                examples, regularization: regularization, iterations: iterations,
                trainedOn: .init(
                    contacts: examples.count, threats: threats, coercion: examples.filter(\.coercion).count, fingerprint: fingerprint.hex))
            let json: Data
            do {
                json = try model.json()
            } catch {
                printError("\(error)")
                throw ExitStatus.callFailed
            }
            if out == "-" {
                FileHandle.standardOutput.write(json + Data("\n".utf8))
            } else {
                try json.write(to: URL(fileURLWithPath: out), options: .atomic)
            }
            if crossValidate { printCrossValidation(contacts) }
        }

        func validate() throws {
            guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
            guard regularization.isFinite, regularization >= 0 else {
                throw ValidationError("--regularization must be a number from 0 up")
            }
            guard !crossValidate || files.count >= 2 else {
                throw ValidationError("--cross-validate leaves one file out at a time: give at least two files")
            }
        }

        /// A contact or a sentence line as a training example.
        private func labeled(_ line: String, analyzer: TextAnalyzer, file: Int) throws -> Labeled {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw LabelError("not a JSON object")
            }
            if object["record"] != nil {
                let (record, label) = try Evaluate.parse(line, inlineLabels: true)
                guard let label else { throw LabelError("no label") }
                return Labeled(
                    example: .init(
                        features: ContactFeatures.of(record, analyzer: analyzer),
                        violence: label.signals.contains(.signalThreatViolence), exposure: label.signals.contains(.signalThreatExposure),
                        coercion: label.signals.contains(.signalCoercion)),
                    kind: label.verdict == .legitimateClaim ? .legitimateClaim : .otherContact, file: file)
            }
            guard let text = object["text"] as? String, let label = object["label"] as? String else {
                throw LabelError("a line must be a contact {\"record\", \"label\"} or a sentence {\"text\", \"label\"}")
            }
            let threat = label == "threat" || label == "violent"
            return Labeled(
                example: .init(
                    features: ContactFeatures.of(text, analyzer: analyzer).sorted(), violence: threat, exposure: false, coercion: false),
                kind: threat ? .threatSentence : label == "clean" ? .cleanSentence : .otherSentence, file: file)
        }

        private func printCrossValidation(_ contacts: [Labeled]) {
            // Beside a model written to standard output, the figures go to standard error.
            func report(_ line: String) {
                if out == "-" { printError(line) } else { print(line) }
            }
            var threat = [Double](repeating: 0, count: contacts.count)
            var coercion = [Double](repeating: 0, count: contacts.count)
            for fileIndex in files.indices {
                let training = contacts.filter { $0.file != fileIndex }.map(\.example)
                let model = ThreatModelTrainer.train(
                    training, regularization: regularization, iterations: iterations,
                    trainedOn: .init(contacts: training.count, threats: 0, coercion: 0, fingerprint: ""))
                for (index, contact) in contacts.enumerated() where contact.file == fileIndex {
                    let scores = model.scores(contact.example.features)
                    threat[index] = scores.threat
                    coercion[index] = scores.coercion
                }
            }
            func count(_ kind: Labeled.Kind) -> Int { contacts.filter { $0.kind == kind }.count }
            let threatContacts = contacts.filter { $0.kind != .threatSentence && $0.example.threat }.count
            report(
                "leave one file out (\(files.count) files): \(threatContacts) threat contacts, \(count(.legitimateClaim)) legitimate claims, "
                    + "\(count(.threatSentence)) threat sentences, \(count(.cleanSentence)) clean sentences")
            report("p ≥   threat contacts   legitimate flagged   threat sentences   clean flagged")
            func share(_ part: Int, _ whole: Int) -> String { String(format: "%5.1f %%", 100 * Double(part) / Double(max(whole, 1))) }
            /// At `threshold`: threat contacts caught, and lines of each kind flagged.
            func reading(at threshold: Double) -> (caught: Int, flagged: [Labeled.Kind: Int]) {
                var flagged: [Labeled.Kind: Int] = [:]
                var caught = 0
                for (index, contact) in contacts.enumerated() where threat[index] >= threshold {
                    flagged[contact.kind, default: 0] += 1
                    if contact.kind != .threatSentence && contact.example.threat { caught += 1 }
                }
                return (caught, flagged)
            }
            for threshold in [0.02, 0.05, 0.1, 0.25, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95] {
                let (caught, flagged) = reading(at: threshold)
                report(
                    String(format: "%.2f", threshold) + "  " + share(caught, threatContacts) + "           "
                        + share(flagged[.legitimateClaim] ?? 0, count(.legitimateClaim)) + "            "
                        + share(flagged[.threatSentence] ?? 0, count(.threatSentence)) + "           "
                        + share(flagged[.cleanSentence] ?? 0, count(.cleanSentence)))
            }
            // The built-in policy's rules, on probabilities in hundredths.
            let hundredths = (1...99).map { Double($0) / 100 }
            let mediumRange = hundredths.filter { $0 >= 0.5 }  // the policy's range for medium
            func atMost(_ part: Int, _ whole: Int, _ share: Double) -> Bool { Double(part) <= share * Double(max(whole, 1)) }
            let medium = mediumRange.first { threshold in
                let flagged = reading(at: threshold).flagged
                return atMost(flagged[.legitimateClaim] ?? 0, count(.legitimateClaim), 0.01)
                    && atMost(flagged[.cleanSentence] ?? 0, count(.cleanSentence), 0.03)
            }
            /// The highest probability at which `probabilities` still read `share` of the lines at `lines`.
            func highest(reading share: Double, of lines: [Int], in probabilities: [Double]) -> Double? {
                hundredths.last { threshold in Double(lines.filter { probabilities[$0] >= threshold }.count) >= share * Double(lines.count)
                }
            }
            let threatLines = contacts.indices.filter { contacts[$0].kind != .threatSentence && contacts[$0].example.threat }
            func thresholdReading(_ share: Double) -> Double? { highest(reading: share, of: threatLines, in: threat) }
            func name(_ threshold: Double?) -> String { threshold.map { String(format: "%.2f", $0) } ?? "none" }
            // Coercion: the highest probability that still reads 98 % of the coercion contacts, and
            // how many legitimate claims read below it.
            let coercionContacts = contacts.indices.filter { contacts[$0].example.coercion }
            let legitimate = contacts.indices.filter { contacts[$0].kind == .legitimateClaim }
            let doubtCoercion = coercionContacts.isEmpty ? nil : highest(reading: 0.98, of: coercionContacts, in: coercion)
            let legitimateBelow = doubtCoercion.map { threshold in legitimate.filter { coercion[$0] < threshold }.count } ?? 0
            report(
                "medium (lowest with <= 1 % legitimate and <= 3 % clean flagged): \(name(medium)); "
                    + "confirm (highest reading >= 90 % of threat contacts): \(name(thresholdReading(0.90))); "
                    + "doubt (highest reading >= 98 %): \(name(thresholdReading(0.98))); "
                    + "doubtCoercion (highest reading >= 98 % of \(coercionContacts.count) coercion contacts): \(name(doubtCoercion)), "
                    + "below it \(share(legitimateBelow, legitimate.count)) of legitimate claims")
        }
    }
}

/// The process's analyzer on the MeCab dictionary at `dictionary` (default IPADIC), or a usage
/// error naming the dictionary.
func loadAnalyzer(_ dictionary: String?) throws -> TextAnalyzer {
    do {
        return try TextAnalyzer.shared(dictionary: dictionary ?? JapaneseAnalyzer.defaultDictionary)
    } catch {
        throw ValidationError("\(error)")
    }
}

/// The threat model in `file`, nil for none given; a file that is not one is named (exit 2).
func loadThreatModel(_ file: String?) throws -> ThreatModel? {
    do {
        return try file.map { file throws(ThreatModelError) in try ThreatModel(file: file) }
    } catch {
        printError("threat model: \(error)")
        throw ExitStatus.badInput
    }
}
