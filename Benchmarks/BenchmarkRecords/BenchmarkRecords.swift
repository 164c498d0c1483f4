import DemandScreenAPI
import Foundation
import ScreeningEngine
import SwiftProtobuf

/// Realistic records built from the labeled corpus: every customer utterance of the corpus, in
/// order, packed into records of about `targetBytes` of transcript text.
public func corpusRecords(language: String, targetBytes: Int) -> [DemandRecord] {
    let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tests/ScreeningEngineTests/Corpus/dev")
    var utterances: [Utterance] = []
    var templates: [DemandRecord] = []
    let files = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []
    for file in files.sorted() where file.hasSuffix(".jsonl") {
        let text = (try? String(contentsOf: corpus.appendingPathComponent(file), encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let recordObject = object["record"],
                let data = try? JSONSerialization.data(withJSONObject: recordObject),
                let record = try? DemandRecord(jsonString: String(decoding: data, as: UTF8.self)),
                ScreeningEngine.language(of: record) == language
            else { continue }
            templates.append(record)
            utterances += record.utterances
        }
    }
    precondition(!templates.isEmpty, "no \(language) corpus records under \(corpus.path)")
    var records: [DemandRecord] = []
    var next = 0
    for template in templates {
        var record = template
        record.utterances = []
        var bytes = 0
        while bytes < targetBytes {
            let utterance = utterances[next % utterances.count]
            next += 1
            record.utterances.append(utterance)
            bytes += utterance.text.utf8.count
        }
        records.append(record)
    }
    return records
}
