import BenchmarkRecords
import DemandScreenAPI
import Foundation
import Morphology
import ScreeningEngine

// The judgment's speed on text, measured side by side in one run on the same customer text (the
// corpus's, packed into 4 KB records): MeCab's own tokenizing (parse and walk, no tokens built),
// the Japanese analyzer (tokens with lemma, kana key, reading and place), and the whole engine
// screening the records (folding, phrases, tokens, patterns, criteria, verdict). English: the
// engine's rate alone. Each figure is the best of ROUNDS passes (default 5) over the text.
//
//   JudgmentRate

let rounds = Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "") ?? 5
let engine = ScreeningEngine(policy: .builtIn())
let analyzer = try TextAnalyzer.shared()
let clock = ContinuousClock()

func customerText(_ records: [DemandRecord]) -> [String] {
    records.flatMap { $0.utterances.filter { $0.speaker == .customer }.map(\.text) }
}

/// Megabytes of `bytes` per second of the best pass of `body`.
func rate(bytes: Int, _ body: () -> Void) -> Double {
    var best = Duration.seconds(3600)
    for _ in 0..<rounds {
        let started = clock.now
        body()
        best = min(best, clock.now - started)
    }
    let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
    return Double(bytes) / seconds / 1_000_000
}

let japanese = corpusRecords(language: "ja", targetBytes: 4096)
let japaneseText = customerText(japanese)
let japaneseBytes = japaneseText.reduce(0) { $0 + $1.utf8.count }
var sink = 0
let mecab = rate(bytes: japaneseBytes) { for text in japaneseText { sink &+= analyzer.japanese.wordCount(text) } }
let tokens = rate(bytes: japaneseBytes) { for text in japaneseText { sink &+= analyzer.analyze(text).count } }
let engineJapanese = rate(bytes: japaneseBytes) { for record in japanese { sink &+= engine.screen(record).signals.count } }

let english = corpusRecords(language: "en", targetBytes: 4096)
let englishBytes = customerText(english).reduce(0) { $0 + $1.utf8.count }
let engineEnglish = rate(bytes: englishBytes) { for record in english { sink &+= engine.screen(record).signals.count } }

print(
    """
    Japanese customer text: \(japaneseBytes) bytes in \(japanese.count) records of 4 KB
      MeCab's own tokenizing (IPADIC, C API)   \(String(format: "%6.2f", mecab)) MB/s
      Japanese analyzer (tokens)               \(String(format: "%6.2f", tokens)) MB/s
      engine, analysis included                \(String(format: "%6.2f", engineJapanese)) MB/s   \(String(format: "%.2f", engineJapanese / mecab))× MeCab
    English customer text: \(englishBytes) bytes in \(english.count) records of 4 KB
      engine, analysis included                \(String(format: "%6.2f", engineEnglish)) MB/s
    (\(sink))
    """)
