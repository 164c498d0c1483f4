import DemandScreenAPI
import Morphology

/// The policy's token patterns compiled against the analyzer: every word of every pattern and
/// concept is analysed once, as the caller's words will be, and its keys (base form, kana
/// spelling, reading) interned as integers, so that matching an utterance compares integers.
final class TokenMatcher: Sendable {
    /// One token of a pattern word: the keys any of which a caller's token must have.
    typealias WordToken = [Int32]

    /// Alternatives for one element: single-token words in a set, longer ones in order.
    struct Unit: Sendable {
        var anyToken = false
        var singles: Set<Int32> = []
        var sequences: [[WordToken]] = []
    }

    enum Element: Sendable {
        case match(Unit, optional: Bool)
        case gap(Int, acrossSentences: Bool)
        case not(Unit)
    }

    struct Pattern: Sendable {
        var id: String
        var signal: SignalKind
        var severity: Severity
        var elements: [Element]
        var then: [Element]?
        var cancels: Bool
    }

    /// A token of the caller's as the matcher sees it: its two keys (-1 where the policy never
    /// names the word) and whether it ends a sentence.
    struct Key {
        var lemma: Int32
        var alternate: Int32
        var surface: Int32
        var endsSentence: Bool
    }

    /// The key of a token written exactly so: kana folded, marked apart from base forms
    /// (English: the word after contractions and obfuscations are folded).
    static func surfaceKey(of token: Token) -> String {
        "=" + (token.partOfSpeech != .symbol && token.reading == token.alternate ? token.alternate : Kana.hiragana(token.surface))
    }

    /// Where a pattern matched, in tokens.
    struct Match {
        var pattern: Int
        var tokens: Range<Int>
    }

    let analyzer: TextAnalyzer
    let patterns: [Pattern]
    private let keyIDs: [String: Int32]
    /// The patterns that can start at a token with this key (their first element's words).
    private let firstElementIndex: [Int32: [Int]]
    /// Patterns whose first element is optional, negated or any token: tried everywhere.
    private let unindexedPatterns: [Int]

    /// Compiles the policy's patterns. The policy was checked when it was read (syntax, concepts,
    /// every word with a letter or digit in it, so that it analyses to at least one token).
    init(policy: ScreeningPolicy, analyzer: TextAnalyzer) {
        self.analyzer = analyzer
        var keyIDs: [String: Int32] = [:]
        func intern(_ key: String) -> Int32 {
            if let id = keyIDs[key] { return id }
            let id = Int32(keyIDs.count)
            keyIDs[key] = id
            return id
        }
        var wordCache: [String: [WordToken]] = [:]
        /// A word's tokens and their keys; `=word` keeps each token's written form only.
        func compileWord(_ word: String) -> [WordToken] {
            if let cached = wordCache[word] { return cached }
            let exact = word.hasPrefix("=")
            let tokens = analyzer.analyze(exact ? String(word.dropFirst()) : word).map { token in
                if exact { return [intern(Self.surfaceKey(of: token))] }
                var keys: Set<String> = [token.lemma, token.alternate]
                // A dictionary form's reading lets kana spellings meet it (殺す → ころす).
                if token.surface == token.lemma { keys.insert(token.reading) }
                return keys.sorted().map(intern)
            }
            wordCache[word] = tokens
            return tokens
        }
        var conceptUnits: [String: Unit] = [:]
        func unit(_ items: [TokenPatternSyntax.Item]) -> Unit {
            var unit = Unit()
            for item in items {
                switch item {
                case .word(let word):
                    add(word, to: &unit)
                case .surface(let word):
                    add("=" + word, to: &unit)
                case .any:
                    unit.anyToken = true
                case .concept(let name):
                    if let known = conceptUnits[name] {
                        unit.singles.formUnion(known.singles)
                        unit.sequences += known.sequences
                        continue
                    }
                    var conceptUnit = Unit()
                    for entry in policy.concepts[name] ?? [] { add(entry, to: &conceptUnit) }
                    conceptUnits[name] = conceptUnit
                    unit.singles.formUnion(conceptUnit.singles)
                    unit.sequences += conceptUnit.sequences
                }
            }
            return unit
        }
        func add(_ word: String, to unit: inout Unit) {
            let tokens = compileWord(word)
            switch tokens.count {
            case 0: break
            case 1: unit.singles.formUnion(tokens[0])
            default: unit.sequences.append(tokens)
            }
        }
        func elements(_ syntax: TokenPatternSyntax) -> [Element] {
            var result: [Element] = []
            for element in syntax.elements {
                switch element {
                case .match(let items, let optional): result.append(.match(unit(items), optional: optional))
                case .gap(let count, let across): result.append(.gap(count, acrossSentences: across))
                case .not(let items): result.append(.not(unit(items)))
                }
            }
            return result
        }
        var patterns: [Pattern] = []
        for rule in policy.tokenPatterns {
            patterns.append(
                Pattern(
                    id: rule.id, signal: rule.signal, severity: rule.severity, elements: elements(rule.tokens),
                    then: rule.then.map(elements), cancels: rule.cancels))
        }
        var firstElementIndex: [Int32: [Int]] = [:]
        var unindexedPatterns: [Int] = []
        for (index, pattern) in patterns.enumerated() {
            guard case .match(let unit, optional: false) = pattern.elements.first, !unit.anyToken else {
                unindexedPatterns.append(index)
                continue
            }
            var firstKeys = unit.singles
            for sequence in unit.sequences { firstKeys.formUnion(sequence[0]) }
            for key in firstKeys { firstElementIndex[key, default: []].append(index) }
        }
        self.patterns = patterns
        self.keyIDs = keyIDs
        self.firstElementIndex = firstElementIndex
        self.unindexedPatterns = unindexedPatterns
    }

    /// The matcher's view of `tokens`.
    func keys(of tokens: [Token]) -> [Key] {
        tokens.map { token in
            Key(
                lemma: keyIDs[token.lemma] ?? -1, alternate: keyIDs[token.alternate] ?? -1,
                surface: keyIDs[Self.surfaceKey(of: token)] ?? -1,
                endsSentence: token.partOfSpeech == .symbol && Self.sentenceEnds.contains(token.surface))
        }
    }

    private static let sentenceEnds: Set<String> = ["。", "！", "？", ".", "!", "?", "\n"]

    /// Every place where a pattern's `tokens` part matches, one match per pattern and start.
    /// Only the patterns whose first element can start at a token are tried there: the first
    /// elements' keys are indexed when the policy is compiled.
    func matches(in keys: [Key]) -> [Match] {
        var found: [Match] = []
        var lastTried = [Int](repeating: -1, count: patterns.count)
        for start in keys.indices {
            let key = keys[start]
            func attempt(_ index: Int) {
                guard lastTried[index] != start else { return }
                lastTried[index] = start
                if let end = Self.match(patterns[index].elements[...], keys, at: start) {
                    found.append(Match(pattern: index, tokens: start..<max(end, start + 1)))
                }
            }
            for id in [key.lemma, key.alternate, key.surface] where id >= 0 {
                for index in firstElementIndex[id] ?? [] { attempt(index) }
            }
            for index in unindexedPatterns { attempt(index) }
        }
        return found.sorted { ($0.tokens.lowerBound, $0.pattern) < ($1.tokens.lowerBound, $1.pattern) }
    }

    /// Where `elements` matched from `position` end, or nil: alternatives and gaps are tried
    /// shortest first.
    static func match(_ elements: ArraySlice<Element>, _ keys: [Key], at position: Int) -> Int? {
        guard let first = elements.first else { return position }
        let rest = elements.dropFirst()
        switch first {
        case .match(let unit, let optional):
            if let result = forEachEnd(of: unit, keys, at: position, { match(rest, keys, at: $0) }) { return result }
            return optional ? match(rest, keys, at: position) : nil
        case .gap(let count, let across):
            var end = position
            while true {
                if let result = match(rest, keys, at: end) { return result }
                guard end < keys.count, end - position < count, across || !keys[end].endsSentence else { return nil }
                end += 1
            }
        case .not(let unit):
            return forEachEnd(of: unit, keys, at: position, { $0 }) == nil ? match(rest, keys, at: position) : nil
        }
    }

    /// Calls `body` with each place `unit` can end if it starts at `position`, until `body`
    /// returns a result.
    static func forEachEnd(of unit: Unit, _ keys: [Key], at position: Int, _ body: (Int) -> Int?) -> Int? {
        guard position < keys.count else { return nil }
        if unit.anyToken || has(keys[position], unit.singles), let result = body(position + 1) { return result }
        for sequence in unit.sequences where position + sequence.count <= keys.count {
            var matched = true
            for (offset, word) in sequence.enumerated() {
                let key = keys[position + offset]
                if !word.contains(key.lemma) && !word.contains(key.alternate) && !word.contains(key.surface) {
                    matched = false
                    break
                }
            }
            if matched, let result = body(position + sequence.count) { return result }
        }
        return nil
    }

    private static func has(_ key: Key, _ set: Set<Int32>) -> Bool {
        (key.lemma >= 0 && set.contains(key.lemma)) || (key.alternate >= 0 && set.contains(key.alternate))
            || (key.surface >= 0 && set.contains(key.surface))
    }
}
