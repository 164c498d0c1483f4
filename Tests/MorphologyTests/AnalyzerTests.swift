import Morphology
import Testing

@Suite struct AnalyzerTests {
    let analyzer = try! TextAnalyzer.shared()

    func lemmas(_ text: String) -> [String] { analyzer.analyze(text).map(\.lemma) }

    @Test func japaneseConjugationsMeetTheirBaseForm() {
        let tokens = analyzer.analyze("殺してやるからな")
        #expect(tokens.map(\.lemma) == ["殺す", "て", "やる", "から", "な"])
        #expect(tokens[0].partOfSpeech == .verb)
        #expect(tokens[0].reading == "ころし")
    }

    @Test(arguments: ["ころしてやる", "コロス", "ｺﾛｽぞｰｰｰ", "こ ろ す"])
    func kanaSpellingsMeetTheKanjiLemmaThroughTheirReading(_ text: String) throws {
        let first = try #require(analyzer.analyze(text).first)
        #expect(first.alternate == "ころす", "\(text): \(first)")
    }

    @Test func tokensPointAtTheCallersOwnScalars() {
        let text = "ｺﾛｽぞｰｰｰ、わかったか"
        let scalars = Array(text.unicodeScalars)
        for token in analyzer.analyze(text) {
            let original = String(String.UnicodeScalarView(scalars[token.source]))
            #expect(!original.isEmpty && token.source.upperBound <= scalars.count, "\(token)")
        }
        let first = analyzer.analyze(text)[0]
        #expect(first.source == 0..<3)
    }

    @Test func englishContractionsAndObfuscationsFold() {
        #expect(lemmas("I'll k1ll you") == ["i", "will", "kill", "you"])
        #expect(lemmas("you're gonna get hurt") == ["you", "are", "go", "to", "get", "hurt"])
        #expect(lemmas("k i l l") == ["kill"])
        #expect(lemmas("k!lled") == ["kill"])
        #expect(lemmas("ki11ing") == ["kill"])
        #expect(lemmas("the manager's car") == ["the", "manag", "car"])
        // Dialect spellings meet the standard words: Scots, Irish, Northern English.
        #expect(lemmas("ah'll come doon an' batter ye") == ["i", "will", "come", "down", "an", "batter", "you"])
        #expect(
            lemmas("ye'll get a sore face, ah cannae wait") == ["you", "will", "get", "a", "sore", "face", ",", "ah", "can", "not", "wait"])
    }

    @Test func mixedUtterancesAreAnalysedRunByRun() {
        let tokens = analyzer.analyze("YouTubeに上げてやる I'm going to post it")
        #expect(tokens.map(\.lemma).suffix(6) == ["i", "am", "go", "to", "post", "it"])
        #expect(tokens.contains { $0.lemma == "上げる" })
        // A Latin word alone stays in the Japanese run, keyed as English too.
        let inside = analyzer.analyze("担当者マジでk1llするから")
        #expect(inside.contains { $0.alternate == "kill" })
    }

    @Test func hostileInputNeitherCrashesNorLosesText() {
        let long = String(repeating: "お前の家を知ってるぞ。", count: 10_000)
        let tokens = analyzer.analyze(long)
        #expect(tokens.count > 50_000)
        #expect(tokens.last!.source.upperBound == long.unicodeScalars.count)
        for text in ["\u{0}\u{1}\u{7F}", "😡🔪💀 ころす", "\u{202E}abc\u{200B}", "\u{FFFD}\u{FFFD}", "ᄀᄁ", String(repeating: "a", count: 50_000)] {
            _ = analyzer.analyze(text)
        }
    }

    /// A CJK compatibility ideograph (U+F902 for 車) reads as the unified one, and the token still
    /// points at the caller's own scalar.
    @Test func compatibilityIdeographsMeetTheUnifiedOnes() {
        let tokens = analyzer.analyze("お前の\u{F902}を壊す")
        #expect(tokens.map(\.lemma) == lemmas("お前の車を壊す"))
        #expect(tokens.first { $0.lemma == "車" }?.source == 3..<4)
    }

    /// The byte-level search finds exactly the scalars the per-scalar check names, wherever they
    /// stand (after a run of ASCII read eight bytes at a time, or last).
    @Test func japaneseScriptIsFoundOnBytesAsOnScalars() {
        let samples = [
            "plain English, long enough for the eight-byte steps", "々", "〆切", "\u{3402}", "\u{FA11}",
            "abcdefghijklmnop\u{30A2}", "café ñ €100 😡", "\u{2FFF}\u{3000}「」", "\u{FFFD}", "\u{20B9F}", "\u{9FFF}x", "ｺﾛｽ", "ＡＢＣ",
        ]
        for text in samples {
            #expect(
                Kana.containsKanaOrKanji(text) == text.unicodeScalars.contains(where: Kana.isKanaOrKanji), "\(text)")
        }
        #expect(Kana.containsKanaOrKanji("abcdefghijklmnop\u{30A2}"))
        #expect(Kana.containsKanaOrKanji("ｺﾛｽ"))
        #expect(!Kana.containsKanaOrKanji("\u{2FFF}\u{3000}「」"))
    }

    @Test func invisibleMarksCurlyApostrophesAndLineBreaksFold() {
        #expect(analyzer.analyze("殺\u{200B}す").first?.lemma == "殺す")
        #expect(lemmas("ki\u{AD}ll") == ["kill"])
        #expect(lemmas("もう無理。don’t").suffix(2) == ["do", "not"])
        // A line break ends a sentence, and the caller's scalars stay where they were.
        let tokens = analyzer.analyze("殺す\nお前")
        #expect(tokens.contains { $0.surface == "。" && $0.source == 2..<3 })
        #expect(tokens.last?.source == 3..<5)
    }

    @Test func aMissingDictionaryIsNamed() {
        #expect {
            try JapaneseAnalyzer(dictionary: "/nonexistent/mecab-dic")
        } throws: { error in
            "\(error)".contains("/nonexistent/mecab-dic")
        }
    }
}
