import DemandScreenAPI
import Foundation
import ScreeningEngine
import SwiftProtobuf
import Testing

/// The labeled corpus (Corpus/): contacts and sentences, each part in its own folder.
///
/// - `dev/`, `dev-sentences/`: written with or alongside the rules; the rules may be tuned on them.
/// - `heldout/`, `heldout-sentences/`: written before the rules that must pass them, by a writer
///   who saw only the domain sources and the list of classes, never the policy; never tuned on.
///   These are the product's claim.
/// - `history/`: multi-contact scenarios replayed in order through one history.
@Suite struct CorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")

    /// The floors the corpus must keep: the figures the judgment reaches now, so that a change
    /// that loses ground fails. The README's quality table has them next to the product's targets
    /// (held-out contacts: accuracy 0.90, threat recall 0.95, no legitimate claim judged unjust;
    /// sentences: threats and violent sentences 0.60, abuse 0.40, clean ones flagged 3 %).
    enum Floor {
        static let heldOutAccuracy = 0.887
        static let heldOutThreatRecall = 0.93
        static let heldOutLegitimateJudgedUnjust = 0.0083
        static let developmentAccuracy = 0.90
        static let developmentThreatRecall = 0.98
        static let developmentLegitimateJudgedUnjust = 0.0015
        static let threatSentences = (en: 0.84, ja: 0.92)
        static let abuseSentences = (en: 0.62, ja: 0.74)
        static let cleanFlagged = 0.03
        /// Of the ordinary complaint wording (`dev-sentences/complaint-wording-clean.jsonl`), how
        /// many may still raise a hostile signal: "it would be a shame if I had to take my
        /// business elsewhere" (a veiled-threat formula), 脚立が壊れて足を折ったぞ (the caller's own
        /// injury, said with 〜ぞ), 子供の体が大事なら… (the formula of a threat to a child).
        static let complaintWordingFlagged = 3
    }
    static let engine = ScreeningEngine(policy: .builtIn())

    static func load(_ folder: String) throws -> [(record: DemandRecord, label: RecordLabel)] {
        var entries: [(DemandRecord, RecordLabel)] = []
        let url = directory.appendingPathComponent(folder)
        let files = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".jsonl") }.sorted()
        for file in files {
            let text = try String(contentsOf: url.appendingPathComponent(file), encoding: .utf8)
            for (index, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(file):\(index + 1)")
                let recordData = try JSONSerialization.data(withJSONObject: try #require(object["record"]))
                let record = try DemandRecord(jsonString: String(decoding: recordData, as: UTF8.self))
                try record.validate()
                let label = try RecordLabel(json: try #require(object["label"] as? [String: Any]), recordID: record.recordID)
                entries.append((record, label))
            }
        }
        return entries
    }

    /// Each single contact screened as a first contact.
    static func report(_ folder: String) throws -> EvaluationReport {
        var report = EvaluationReport()
        for (record, label) in try load(folder) {
            report.add(engine.screen(record), label: label)
        }
        return report
    }

    static func describe(_ report: EvaluationReport) -> String {
        let mismatches = report.mismatches.map { label, result in
            "\(label.recordID): expected \(label.verdict.protoName) \(label.signals.map(\.protoName).sorted()), judged \(result.verdict.protoName) \(result.signals.map(\.kind.protoName).sorted()) \(result.signals.flatMap { $0.evidence.map { "\($0.rule)=\($0.excerpt)" } })"
        }
        return "\(report.text)\n\(mismatches.joined(separator: "\n"))"
    }

    @Test func corpusIsLargeAndVaried() throws {
        let development = try Self.load("dev")
        let heldOut = try Self.load("heldout")
        let all = development + heldOut + (try Self.load("history"))
        #expect(all.count >= 800)
        #expect(heldOut.count * 3 >= all.count, "the held-out part must be at least a third")
        let ids = all.map(\.record.recordID)
        #expect(Set(ids).count == ids.count, "record ids must be unique")
        let languages = all.map { ScreeningEngine.language(of: $0.record) }
        #expect(languages.filter { $0 == "ja" }.count >= 400)
        #expect(languages.filter { $0 == "en" }.count >= 300)
        for verdict in EvaluationReport.verdicts {
            #expect(heldOut.filter { $0.label.verdict == verdict }.count >= 40, "too few held-out \(verdict.protoName)")
        }
    }

    /// The product's claim: contacts it was never tuned on.
    @Test func heldOutContactsMeetTheQualityFloors() throws {
        // Only the figures: reading the held-out misses would tune the rules to them.
        let report = try Self.report("heldout")
        print("== held-out contacts\n\(report.text)")
        #expect(report.accuracy >= Floor.heldOutAccuracy, "\(report.text)")
        #expect(report.legitimateJudgedUnjustRate <= Floor.heldOutLegitimateJudgedUnjust, "\(report.text)")
        let threatRecall = try #require(report.threatRecall)
        #expect(threatRecall >= Floor.heldOutThreatRecall, "\(report.text)")
    }

    @Test func developmentContactsMeetTheQualityFloors() throws {
        let report = try Self.report("dev")
        print("== development contacts\n\(Self.describe(report))")
        #expect(report.accuracy >= Floor.developmentAccuracy, "\(Self.describe(report))")
        #expect(
            report.legitimateJudgedUnjustRate <= Floor.developmentLegitimateJudgedUnjust,
            "a legitimate claim was judged unjust:\n\(Self.describe(report))")
        let threatRecall = try #require(report.threatRecall)
        #expect(threatRecall >= Floor.developmentThreatRecall, "\(Self.describe(report))")
    }

    /// No customer text of the held-out part (a sentence, or a contact's utterance) is also in the
    /// development part: the rules are tuned and the threat model is trained on that part, and a
    /// text in both would be remembered rather than judged. A short courtesy in which the engine
    /// reads nothing (under 40 characters: "Fine. Thanks.", "Thank you. That's all I wanted.") is
    /// said in many contacts of both parts, and says nothing.
    @Test func theHeldOutPartSharesNoTextWithTheDevelopmentPart() throws {
        func texts(contacts: String, sentences: String) throws -> Set<String> {
            var texts = Set(try Self.sentences(sentences).map { $0.text.trimmingCharacters(in: .whitespaces) })
            for (record, _) in try Self.load(contacts) {
                for utterance in record.utterances where utterance.speaker == .customer {
                    texts.insert(utterance.text.trimmingCharacters(in: .whitespaces))
                }
            }
            return texts
        }
        func courtesy(_ text: String) -> Bool {
            text.count < 40 && Self.engine.screen(record([text])).signals.isEmpty
        }
        let shared = try texts(contacts: "heldout", sentences: "heldout-sentences")
            .intersection(try texts(contacts: "dev", sentences: "dev-sentences")).filter { !courtesy($0) }
        #expect(shared.isEmpty, "in both parts: \(shared.sorted().prefix(10))")
    }

    /// The built-in threat model was trained on the development contacts and sentences as they
    /// are now, and on nothing else: a changed or added development file asks for
    /// `Scripts/train-threat-model.sh`.
    @Test func theThreatModelWasTrainedOnTheDevelopmentCorpusAsItIs() throws {
        var fingerprint = ThreatModel.Fingerprint()
        var lines = 0
        for folder in ["dev", "dev-sentences"] {
            let url = Self.directory.appendingPathComponent(folder)
            // In byte order, as the training script's glob under LC_ALL=C.
            let files = try FileManager.default.contentsOfDirectory(atPath: url.path)
                .filter { $0.hasSuffix(".jsonl") && !$0.hasPrefix(".") }
                .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for file in files {
                // Lines as the CLI reads them.
                lines += fingerprint.add(jsonLines: try String(contentsOf: url.appendingPathComponent(file), encoding: .utf8))
            }
        }
        let trainedOn = ThreatModel.builtIn.trainedOn
        #expect(trainedOn.contacts == lines, "run Scripts/train-threat-model.sh")
        #expect(trainedOn.fingerprint == fingerprint.hex, "run Scripts/train-threat-model.sh")
    }

    /// The multi-contact scenarios (repeated and escalating calls, legitimate follow-ups, the
    /// same defect from several customers) come out exactly as labeled when replayed in order.
    @Test func historyScenariosComeOutAsLabeled() throws {
        var history = HistoryBook()
        let scenarios = try Self.load("history")
        #expect(scenarios.count >= 15)
        for (record, label) in scenarios {
            let result = history.screen(record, at: record.receivedAtUnixMs, policy: Self.engine.policy) {
                Self.engine.screen(record, history: $0)
            }
            #expect(result.verdict == label.verdict, "\(record.recordID)")
            #expect(Set(result.signals.map(\.kind)) == label.signals, "\(record.recordID)")
        }
    }

    // MARK: - Sentences

    struct Sentence {
        var id: String
        var language: String
        var text: String
        var label: String
    }

    static func sentences(_ folder: String) throws -> [Sentence] {
        let url = directory.appendingPathComponent(folder)
        var sentences: [Sentence] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: url.path).filter({ $0.hasSuffix(".jsonl") }).sorted() {
            let text = try String(contentsOf: url.appendingPathComponent(file), encoding: .utf8)
            for (index, line) in text.split(separator: "\n").enumerated() {
                let object = try #require(
                    try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(file):\(index + 1)")
                sentences.append(
                    Sentence(
                        id: try #require(object["id"]), language: try #require(object["language"]), text: try #require(object["text"]),
                        label: try #require(object["label"])))
            }
        }
        return sentences
    }

    /// The signals one sentence raises, said by a caller alone in a record.
    static func signals(of sentence: Sentence) -> [Signal] {
        var record = DemandRecord()
        record.recordID = sentence.id
        record.claimantID = "sentence"
        record.language = sentence.language
        var utterance = Utterance()
        utterance.speaker = .customer
        utterance.text = sentence.text
        record.utterances = [utterance]
        return engine.screen(record).signals
    }

    static let hostile: Set<SignalKind> = [.signalThreatViolence, .signalThreatExposure, .signalCoercion, .signalAbusiveLanguage]

    /// Shares caught per set: threats (en) and violent sentences (ja) by SIGNAL_THREAT_VIOLENCE,
    /// abuse by SIGNAL_ABUSIVE_LANGUAGE; clean sentences by any hostile signal.
    struct SentenceFigures: CustomStringConvertible {
        var caught: [String: (hits: Int, total: Int)] = [:]
        var misses: [String: [String]] = [:]

        func share(_ key: String) -> Double {
            guard let entry = caught[key], entry.total > 0 else { return 0 }
            return Double(entry.hits) / Double(entry.total)
        }

        var description: String {
            caught.keys.sorted().map { key in
                let entry = caught[key]!
                return "\(key): \(entry.hits)/\(entry.total) = \(String(format: "%.1f%%", share(key) * 100))\n  "
                    + (misses[key] ?? []).joined(separator: "\n  ")
            }.joined(separator: "\n")
        }
    }

    static func figures(_ folder: String) throws -> SentenceFigures {
        var figures = SentenceFigures()
        for sentence in try sentences(folder) {
            let signals = signals(of: sentence)
            let found = Set(signals.map(\.kind))
            let key: String
            let hit: Bool
            switch sentence.label {
            case "threat", "violent":
                key = "\(sentence.language) \(sentence.label) caught"
                hit = found.contains(.signalThreatViolence)
            case "abuse":
                key = "\(sentence.language) abuse caught"
                hit = found.contains(.signalAbusiveLanguage)
            default:
                key = "\(sentence.language) clean flagged"
                hit = !found.isDisjoint(with: hostile)
            }
            figures.caught[key, default: (0, 0)].total += 1
            if hit { figures.caught[key, default: (0, 0)].hits += 1 }
            if hit == (sentence.label == "clean") {
                let rules = signals.flatMap { $0.evidence.map(\.rule) }
                figures.misses[key, default: []].append("\(sentence.id) \(sentence.text) \(found.map(\.protoName).sorted()) \(rules)")
            }
        }
        return figures
    }

    static func expectFloors(_ figures: SentenceFigures) {
        #expect(figures.share("en threat caught") >= Floor.threatSentences.en, "\(figures)")
        #expect(figures.share("ja violent caught") >= Floor.threatSentences.ja, "\(figures)")
        #expect(figures.share("en abuse caught") >= Floor.abuseSentences.en, "\(figures)")
        #expect(figures.share("ja abuse caught") >= Floor.abuseSentences.ja, "\(figures)")
        #expect(figures.share("en clean flagged") <= Floor.cleanFlagged, "\(figures)")
        #expect(figures.share("ja clean flagged") <= Floor.cleanFlagged, "\(figures)")
    }

    @Test func heldOutSentencesMeetTheFloors() throws {
        // Only the figures: reading the held-out misses would tune the rules to them.
        var figures = try Self.figures("heldout-sentences")
        figures.misses = [:]
        print("== held-out sentences\n\(figures)")
        Self.expectFloors(figures)
    }

    /// Ordinary complaint wording that a rule written too loosely takes for menace ("this kettle
    /// didn't last a month", 注文番号は控えてますから, 夜道は危ないから気をつけてね), written by a
    /// reviewer against rules that flagged it: each sentence that raises a hostile signal is named.
    @Test func ordinaryComplaintWordingRaisesNoHostileSignal() throws {
        let wording = try Self.sentences("dev-sentences").filter { $0.id.hasPrefix("cw-") }
        #expect(wording.count >= 70)
        let flagged = wording.compactMap { sentence -> String? in
            let signals = Self.signals(of: sentence).filter { Self.hostile.contains($0.kind) }
            guard !signals.isEmpty else { return nil }
            return "\(sentence.id) \(sentence.text) \(signals.flatMap { $0.evidence.map(\.rule) })"
        }
        #expect(flagged.count <= Floor.complaintWordingFlagged, "\(flagged.joined(separator: "\n"))")
    }

    @Test func developmentSentencesMeetTheFloors() throws {
        let figures = try Self.figures("dev-sentences")
        print("== development sentences")
        for line in figures.description.split(separator: "\n") { print(line) }
        Self.expectFloors(figures)
    }
}
