import Foundation
import Synchronization

/// Tokens for an utterance in Japanese, English or both: the text is prepared once
/// (`AnalysisText`) and analysed run by run, Japanese runs through MeCab and Latin runs (any
/// stretch with a letter: "I'm going to", k1ll, YouTube) through the English analyzer, so that a
/// disguised English word inside Japanese (マジでk1llする) is folded as it would be alone.
public final class TextAnalyzer: Sendable {
    public let japanese: JapaneseAnalyzer
    public let english: EnglishAnalyzer

    public init(japanese: JapaneseAnalyzer, english: EnglishAnalyzer = EnglishAnalyzer()) {
        self.japanese = japanese
        self.english = english
    }

    private static let loaded = Mutex<[String: TextAnalyzer]>([:])

    /// The analyzer for `dictionary`, loaded once per process and shared by every engine (a
    /// policy reload does not load the dictionary again). The error names the dictionary's path.
    public static func shared(dictionary: String = JapaneseAnalyzer.defaultDictionary) throws(MorphologyError) -> TextAnalyzer {
        if let analyzer = loaded.withLock({ $0[dictionary] }) { return analyzer }
        let analyzer = TextAnalyzer(japanese: try JapaneseAnalyzer(dictionary: dictionary))
        return loaded.withLock { loaded in
            if let existing = loaded[dictionary] { return existing }
            loaded[dictionary] = analyzer
            return analyzer
        }
    }

    /// The tokens of `text` in order, each with its range in `text`'s Unicode scalars.
    public func analyze(_ text: String) -> [Token] {
        let prepared = AnalysisText(text)
        var tokens: [Token] = []
        for run in Self.runs(prepared.scalars) {
            if run.isEnglish {
                english.analyze(prepared, range: run.range, into: &tokens)
            } else {
                tokens += japanese.analyze(prepared, range: run.range)
            }
        }
        return tokens
    }

    struct Run: Equatable {
        var range: Range<Int>
        var isEnglish: Bool
    }

    /// The text cut into Japanese and English runs. Scalars that are neither (spaces, symbols,
    /// emoji) go with the run they are in.
    static func runs(_ scalars: [Unicode.Scalar]) -> [Run] {
        guard scalars.contains(where: Kana.isKanaOrKanji) else {
            return scalars.isEmpty ? [] : [Run(range: 0..<scalars.count, isEnglish: true)]
        }
        // Latin stretches: maximal spans of ASCII and Latin letters; English when they hold a letter.
        func isLatin(_ scalar: Unicode.Scalar) -> Bool { scalar.value < 0x80 || (0xC0..<0x250).contains(scalar.value) }
        var runs: [Run] = []
        var japaneseStart = 0
        var index = 0
        while index < scalars.count {
            guard isLatin(scalars[index]) else {
                index += 1
                continue
            }
            let start = index
            while index < scalars.count && isLatin(scalars[index]) {
                index += 1
            }
            if scalars[start..<index].contains(where: \.properties.isAlphabetic) {
                if japaneseStart < start { runs.append(Run(range: japaneseStart..<start, isEnglish: false)) }
                runs.append(Run(range: start..<index, isEnglish: true))
                japaneseStart = index
            }
        }
        if japaneseStart < scalars.count { runs.append(Run(range: japaneseStart..<scalars.count, isEnglish: false)) }
        return runs
    }
}
