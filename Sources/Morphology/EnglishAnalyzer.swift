import CStemmer
import Synchronization

/// English words as tokens: contractions and chat spellings expanded (I'll → i will, gonna →
/// going to, u → you), obfuscations folded (k1ll, k!ll, k i l l, kiII → kill), each word stemmed with
/// Snowball's English stemmer (Debian's `libstemmer-dev`), so killing, killed and kills meet kill.
public final class EnglishAnalyzer: Sendable {
    private let stemmers = Mutex<[Stemmer]>([])

    public init() {}

    /// The tokens of `text`, each with its range in `text`'s Unicode scalars.
    public func analyze(_ text: String) -> [Token] {
        var tokens: [Token] = []
        analyze(AnalysisText(text), range: nil, into: &tokens)
        return tokens
    }

    func analyze(_ text: AnalysisText, range: Range<Int>?, into tokens: inout [Token]) {
        let whole = range ?? 0..<text.scalars.count
        let stemmer = stemmers.withLock { $0.popLast() } ?? Stemmer()
        defer { stemmers.withLock { $0.append(stemmer) } }
        for word in Self.words(text.scalars, whole) {
            if word.isSymbol {
                tokens.append(
                    Token(
                        lemma: word.text, alternate: word.text, surface: word.text, reading: word.text, partOfSpeech: .symbol,
                        source: text.sourceRange(word.range)))
                continue
            }
            let source = text.sourceRange(word.range)
            let surface = text.string(word.range)
            func append(_ expanded: String) {
                guard !expanded.isEmpty else { return }
                tokens.append(
                    Token(
                        lemma: stemmer.stem(expanded), alternate: expanded, surface: surface, reading: expanded,
                        partOfSpeech: Self.pronouns.contains(expanded) ? .pronoun : .other, source: source))
            }
            let folded = Self.deobfuscate(word.text)
            if let expansion = Self.expansion(of: folded) { expansion.forEach(append) } else { append(folded) }
        }
    }

    struct Word {
        var text: String
        var range: Range<Int>
        var isSymbol = false
    }

    /// Words (letters, digits, apostrophes, and the symbols people put inside words to disguise
    /// them) and clause marks, with single letters spaced out (k i l l) joined.
    static func words(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> [Word] {
        var words: [Word] = []
        var index = range.lowerBound
        while index < range.upperBound {
            let scalar = scalars[index]
            if isWordScalar(scalar) || (disguise.contains(scalar) && index + 1 < range.upperBound && isWordScalar(scalars[index + 1])) {
                let start = index
                var text = String.UnicodeScalarView()
                while index < range.upperBound {
                    let current = scalars[index]
                    let inside =
                        isWordScalar(current) || current == "'" || current == "’"
                        || (disguise.contains(current) && index + 1 < range.upperBound && isWordScalar(scalars[index + 1]))
                    guard inside else { break }
                    text.append(current == "’" ? "'" : current)
                    index += 1
                }
                var word = String(Self.capitalIAsL(text)).lowercased()
                while word.hasSuffix("'") { word.removeLast() }
                while word.hasPrefix("'") { word.removeFirst() }
                if !word.isEmpty { words.append(Word(text: word, range: start..<index)) }
                continue
            }
            if clauseMarks.contains(scalar) {
                words.append(Word(text: String(scalar), range: index..<(index + 1), isSymbol: true))
            }
            index += 1
        }
        return joinSpelledOut(words, scalars)
    }

    /// A capital I after a lower-case letter stands for an l (kiII, skiIl) in a word with no
    /// other capital but its first letter (OpenID stays as it is).
    static func capitalIAsL(_ text: String.UnicodeScalarView) -> String.UnicodeScalarView {
        guard text.dropFirst().contains("I"), !text.dropFirst().contains(where: { (0x41...0x5A).contains($0.value) && $0 != "I" })
        else { return text }
        var result = String.UnicodeScalarView()
        var previousLower = false
        for scalar in text {
            if scalar == "I" && previousLower {
                result.append("l")
            } else {
                result.append(scalar)
                previousLower = (0x61...0x7A).contains(scalar.value)
            }
        }
        return result
    }

    /// Three or more single letters in a row, apart by one space or dash: one word.
    private static func joinSpelledOut(_ words: [Word], _ scalars: [Unicode.Scalar]) -> [Word] {
        var result: [Word] = []
        var index = 0
        while index < words.count {
            var end = index
            while end < words.count, !words[end].isSymbol, words[end].text.count == 1,
                words[end].text.unicodeScalars.allSatisfy(\.properties.isAlphabetic),
                end == index || words[end].range.lowerBound - words[end - 1].range.upperBound <= 1
            {
                end += 1
            }
            if end - index >= 3 {
                result.append(
                    Word(
                        text: words[index..<end].map(\.text).joined(),
                        range: words[index].range.lowerBound..<words[end - 1].range.upperBound))
                index = end
            } else {
                result.append(words[index])
                index += 1
            }
        }
        return result
    }

    /// Digits and symbols standing for letters inside a word that has letters (k1ll, k!ll, b1tch,
    /// @sshole, ki11); a word of digits alone stays as it is.
    static func deobfuscate(_ word: String) -> String {
        // Most words are plain lower-case letters: nothing to fold.
        guard !word.utf8.allSatisfy({ $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }),
            word.unicodeScalars.contains(where: { $0.properties.isAlphabetic }),
            word.unicodeScalars.contains(where: { leet[$0] != nil })
        else { return word }
        let scalars = Array(word.unicodeScalars)
        var result = String.UnicodeScalarView()
        for (index, scalar) in scalars.enumerated() {
            // One 1 is an i (k1ll); two together are ll (ki11).
            if scalar == "1" && ((index > 0 && scalars[index - 1] == "1") || (index + 1 < scalars.count && scalars[index + 1] == "1")) {
                result.append("l")
            } else if let letter = leet[scalar] {
                result.append(letter)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// Contractions and chat spellings as the words they stand for; nil for a word that stands
    /// for itself (most words: no list is made for them).
    static func expansion(of word: String) -> [String]? {
        if let words = spellings[word] { return words }
        guard word.utf8.contains(UInt8(ascii: "'")) else { return nil }
        if word.hasSuffix("n't") {
            let stem = String(word.dropLast(3))
            return [stem == "wo" ? "will" : stem == "ca" ? "can" : stem == "sha" ? "shall" : stem == "ai" ? "is" : stem, "not"]
        }
        for (suffix, expansion) in suffixes where word.hasSuffix(suffix) && word.count > suffix.count {
            let head = String(word.dropLast(suffix.count))
            if suffix == "'s" {
                // it's, someone's, there's: a verb; the manager's car: a possessive, dropped.
                return isBeforeVerb.contains(head) ? [head, "is"] : [head]
            }
            return [head, expansion]
        }
        return nil
    }

    private static let suffixes: [(String, String)] = [
        ("'ll", "will"), ("'re", "are"), ("'ve", "have"), ("'d", "would"), ("'m", "am"), ("'s", "is"),
    ]
    private static let isBeforeVerb: Set<String> = [
        "it", "he", "she", "that", "there", "here", "what", "who", "someone", "somebody", "everyone", "everybody", "nobody",
        "this", "where", "when", "how", "let",
    ]
    private static let spellings: [String: [String]] = [
        "gonna": ["going", "to"], "gunna": ["going", "to"], "finna": ["going", "to"], "wanna": ["want", "to"],
        "gotta": ["got", "to"], "tryna": ["trying", "to"], "imma": ["i", "am", "going", "to"], "ima": ["i", "am", "going", "to"],
        "i'ma": ["i", "am", "going", "to"], "i'mma": ["i", "am", "going", "to"], "im": ["i", "am"], "ill": ["ill"],
        "u": ["you"], "ya": ["you"], "yu": ["you"], "ur": ["your"], "youre": ["you", "are"], "r": ["are"], "y'all": ["you", "all"],
        "yall": ["you", "all"], "lemme": ["let", "me"], "gimme": ["give", "me"], "cuz": ["because"], "coz": ["because"],
        "ppl": ["people"], "dont": ["do", "not"], "wont": ["will", "not"], "cant": ["can", "not"], "didnt": ["did", "not"],
        "isnt": ["is", "not"], "aint": ["is", "not"], "ive": ["i", "have"], "id": ["i", "would"], "ull": ["you", "will"],
        "youll": ["you", "will"], "theyll": ["they", "will"], "hell": ["hell"], "gon": ["going", "to"], "let's": ["let", "us"],
        "boutta": ["about", "to"], "bouta": ["about", "to"], "ya'll": ["you", "all"], "yuh": ["you"],
        // Scots, Irish and Northern English: ah'll come doon an' batter ye; ye'll get a sore face.
        "ah'll": ["i", "will"], "a'll": ["i", "will"], "ah'm": ["i", "am"], "ah've": ["i", "have"], "ah'd": ["i", "would"],
        "ye": ["you"], "ye'll": ["you", "will"], "ye're": ["you", "are"], "ye'd": ["you", "would"], "yer": ["your"],
        "youse": ["you"], "yous": ["you"], "yese": ["you"], "gonnae": ["going", "to"], "doon": ["down"], "aff": ["off"],
        "dae": ["do"], "cannae": ["can", "not"], "canna": ["can", "not"], "dinnae": ["do", "not"], "dinna": ["do", "not"],
        "didnae": ["did", "not"], "wullnae": ["will", "not"], "willnae": ["will", "not"], "wouldnae": ["would", "not"],
        "isnae": ["is", "not"], "wisnae": ["was", "not"], "wis": ["was"], "intae": ["into"], "tae": ["to"],
        "windae": ["window"], "windaes": ["windows"], "bate": ["beat"], "heid": ["head"],
    ]
    private static let leet: [Unicode.Scalar: Unicode.Scalar] = [
        "1": "i", "!": "i", "|": "l", "0": "o", "3": "e", "4": "a", "@": "a", "$": "s", "5": "s", "7": "t", "*": "u",
    ]
    private static let disguise: Set<Unicode.Scalar> = ["!", "@", "$", "|", "*"]
    private static let clauseMarks: Set<Unicode.Scalar> = [".", "!", "?", ",", ";", ":", "\n", "。", "！", "？", "、"]
    static let pronouns: Set<String> = [
        "i", "me", "my", "you", "your", "yours", "he", "him", "his", "she", "her", "they", "them", "their", "we", "us", "our",
    ]

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        (0x30...0x39).contains(scalar.value) || AnalysisText.isLatinLetter(scalar)
            || (scalar.value >= 0xC0 && scalar.value < 0x250 && scalar.properties.isAlphabetic)
    }
}

/// One Snowball English stemmer: not thread-safe, so the analyzer keeps a pool. It remembers the
/// stems it has made (a caller's vocabulary is small; stemming again costs a C call and a copy).
private final class Stemmer: @unchecked Sendable {
    private let pointer: OpaquePointer
    private var stems: [String: String] = [:]
    private static let stemsLimit = 20_000

    init() {
        pointer = sb_stemmer_new("english", "UTF_8")
    }

    deinit { sb_stemmer_delete(pointer) }

    func stem(_ word: String) -> String {
        // Only words of ordinary length are kept, so that hostile text cannot grow the cache.
        guard word.utf8.count <= 32 else { return snowball(word) }
        if let known = stems[word] { return known }
        let stemmed = snowball(word)
        if stems.count >= Self.stemsLimit { stems.removeAll(keepingCapacity: true) }
        stems[word] = stemmed
        return stemmed
    }

    private func snowball(_ word: String) -> String {
        var word = word
        return word.withUTF8 { utf8 in
            guard let base = utf8.baseAddress, let stemmed = sb_stemmer_stem(pointer, base, Int32(utf8.count)) else {
                return String(decoding: utf8, as: UTF8.self)
            }
            let length = Int(sb_stemmer_length(pointer))
            return String(decoding: UnsafeBufferPointer(start: stemmed, count: length), as: UTF8.self)
        }
    }
}
