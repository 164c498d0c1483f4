/// One word of an utterance as the analyzers see it: its base form, a second key to meet other
/// spellings of the same word, its part of speech, and where it stands in the caller's text.
public struct Token: Sendable, Hashable {
    /// Japanese: the dictionary base form (殺す for 殺して, ころす for ころして); English: the
    /// Snowball stem of the word after contractions and obfuscations are folded (kill for k1lling).
    public var lemma: String
    /// Japanese: the base form with katakana as hiragana (ころす for ころす, コロス and ｺﾛｽ; 殺す stays
    /// 殺す), which a pattern word's reading meets, so that kana spellings meet their kanji word;
    /// English: the folded word itself.
    public var alternate: String
    /// The text as written, after the analysis folding (NFKC, elongation).
    public var surface: String
    /// Japanese: the surface's reading in hiragana (ころす for 殺す); English: the folded word.
    public var reading: String
    public var partOfSpeech: PartOfSpeech
    /// The original text's Unicode scalars that this token covers (half-open).
    public var source: Range<Int>

    public init(lemma: String, alternate: String, surface: String, reading: String, partOfSpeech: PartOfSpeech, source: Range<Int>) {
        self.lemma = lemma
        self.alternate = alternate
        self.surface = surface
        self.reading = reading
        self.partOfSpeech = partOfSpeech
        self.source = source
    }
}

/// Coarse parts of speech, enough for patterns to tell a verb from a particle.
public enum PartOfSpeech: UInt8, Sendable, Hashable, CaseIterable {
    case noun, pronoun, verb, adjective, adverb, auxiliary, particle, conjunction, prefix, symbol, other

    /// IPADIC's first feature field (名詞, 動詞, …), with 代名詞 as the second.
    init(ipadic first: Substring, second: Substring) {
        switch first {
        case "名詞": self = second == "代名詞" ? .pronoun : .noun
        case "動詞": self = .verb
        case "形容詞", "形容動詞", "連体詞": self = .adjective
        case "副詞": self = .adverb
        case "助動詞": self = .auxiliary
        case "助詞": self = .particle
        case "接続詞": self = .conjunction
        case "接頭詞": self = .prefix
        case "記号": self = .symbol
        default: self = .other
        }
    }
}

/// Why an analyzer could not be made.
public struct MorphologyError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
