import DemandScreenAPI
import Foundation
import SwiftProtobuf
import ScreeningEngine
import Testing

/// The labeled corpus (Corpus/*.jsonl, written by hand from realistic call-center situations):
/// the engine must meet the quality floors on it.
@Suite struct CorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")

    static func load() throws -> [(record: DemandRecord, label: RecordLabel)] {
        var entries: [(DemandRecord, RecordLabel)] = []
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".jsonl") }.sorted()
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
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

    @Test func corpusIsLargeAndVaried() throws {
        let entries = try Self.load()
        #expect(entries.count >= 150)
        let ids = entries.map(\.record.recordID)
        #expect(Set(ids).count == ids.count, "record ids must be unique")
        let languages = Set(entries.map { ScreeningEngine.language(of: $0.record) })
        #expect(languages == ["ja", "en"])
        for verdict in EvaluationReport.verdicts {
            #expect(entries.filter { $0.label.verdict == verdict }.count >= 20, "too few \(verdict.protoName)")
        }
    }

    @Test func engineMeetsTheQualityFloors() throws {
        let engine = ScreeningEngine(policy: .builtIn())
        var report = EvaluationReport()
        // Replayed in order through one history, as `demandscreen evaluate` does.
        var history = HistoryBook()
        for (record, label) in try Self.load() {
            let result = history.screen(record, at: record.receivedAtUnixMs, policy: engine.policy) { engine.screen(record, history: $0) }
            report.add(result, label: label)
        }
        let mismatches = report.mismatches.map { label, result in
            "\(label.recordID): expected \(label.verdict.protoName) \(label.signals.map(\.protoName).sorted()), judged \(result.verdict.protoName) \(result.signals.map(\.kind.protoName).sorted())"
        }
        #expect(report.accuracy >= 0.95, "\(report.text)\n\(mismatches.joined(separator: "\n"))")
        #expect(report.legitimateJudgedUnjustRate == 0, "a legitimate claim was judged unjust:\n\(mismatches.joined(separator: "\n"))")
        let threatRecall = try #require(report.threatRecall)
        #expect(threatRecall >= 0.98, "\(report.text)")
    }

    /// The multi-contact scenarios (history-scenarios.jsonl: repeated and escalating calls,
    /// legitimate follow-ups, the same defect from several customers) come out exactly as
    /// labeled when replayed in order.
    @Test func historyScenariosComeOutAsLabeled() throws {
        let engine = ScreeningEngine(policy: .builtIn())
        var history = HistoryBook()
        let scenarios = try Self.load().filter { $0.record.recordID.hasPrefix("hist-") }
        #expect(scenarios.count >= 15)
        for (record, label) in scenarios {
            let result = history.screen(record, at: record.receivedAtUnixMs, policy: engine.policy) { engine.screen(record, history: $0) }
            #expect(result.verdict == label.verdict, "\(record.recordID)")
            #expect(Set(result.signals.map(\.kind)) == label.signals, "\(record.recordID)")
        }
    }
}
