import DemandScreenAPI
import Foundation
import Morphology

/// The policy's token patterns compiled against the analyzer: every word of every pattern and
/// concept is analysed once, as the caller's words will be, and its keys (base form, kana
/// spelling, reading) interned as integers, so that matching an utterance compares integers.
final class TokenMatcher: Sendable {
    /// One token of a pattern word: the keys any of which a caller's token must have.
    typealias WordToken = [Int32]

    /// Alternatives for one element as compiled: single-token words are a row of `bits` (one bit
    /// per key), longer words kept in order.
    struct Unit: Sendable {
        var anyToken = false
        var row = 0
        var sequences: [[WordToken]] = []
    }

    /// One element of a pattern; units by their index in `units`.
    enum Element: Sendable {
        case match(unit: Int, optional: Bool)
        case gap(Int, acrossSentences: Bool, except: Int?)
        case not(unit: Int)
    }

    struct Pattern: Sendable {
        var id: String
        var signal: SignalKind
        var severity: Severity
        /// The pattern's elements in `elements`, and its `then` part's.
        var tokens: Range<Int>
        var then: Range<Int>?
        var cancels: Bool
        /// For a cancelling pattern: its match, or the reported clause it marks.
        var reach: TokenPatternRule.Reach
        /// Where a reported clause stops, in `elements`.
        var until: Range<Int>?
        var confirmedByModel: Bool
        var hint: String?
    }

    /// A token of the caller's as the matcher sees it: its keys (-1 where the policy never
    /// names the word) and whether it ends a sentence.
    struct Key {
        var lemma: Int32
        var alternate: Int32
        var surface: Int32
        var endsSentence: Bool
    }

    /// The key of a token written exactly so: kana folded, marked apart from base forms
    /// (English: the word after contractions and obfuscations are folded).
    static func surfaceKey(of token: Token) -> String { "=" + surfaceText(of: token) }

    /// A surface key without its mark.
    private static func surfaceText(of token: Token) -> String {
        token.partOfSpeech != .symbol && UTF8Key(token.reading) == UTF8Key(token.alternate)
            ? token.alternate : Kana.hiragana(token.surface)
    }

    /// A key compared and hashed by its UTF-8 bytes: `String`'s own equality would check canonical
    /// equivalence on every Japanese lookup. Both sides come from the analyzer, so the same word
    /// gives the same bytes; a caller's word spelled with other but equivalent code points (a CJK
    /// compatibility ideograph, a decomposed accent) is another key here, and is left to the phrase
    /// automaton, which folds NFKC.
    struct UTF8Key: Hashable {
        var text: String

        init(_ text: String) { self.text = text }

        static func == (lhs: Self, rhs: Self) -> Bool {
            var (left, right) = (lhs.text, rhs.text)
            return left.withUTF8 { left in
                right.withUTF8 { right in
                    left.count == right.count && (left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
                }
            }
        }

        func hash(into hasher: inout Hasher) {
            var text = text
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }

    /// Where a pattern matched, in tokens.
    struct Match {
        var pattern: Int
        var tokens: Range<Int>
    }

    let analyzer: TextAnalyzer
    let patterns: [Pattern]
    private let elements: [Element]
    private let units: [Unit]
    /// One row of bits per unit, `wordsPerRow` words each: bit k set when key k is one of the
    /// unit's single-token words.
    private let bits: [UInt64]
    private let wordsPerRow: Int
    private let keyIDs: [UTF8Key: Int32]
    /// The surface keys' ids by their text without the `=` mark: looked up without building the key.
    private let surfaceKeyIDs: [UTF8Key: Int32]
    /// Words of the policy's patterns and concepts that the analyzer reads as no token at all
    /// (a script it does not analyse): they can never match.
    let unreadableWords: [String]
    /// The patterns that can start at a token with this key (their first element's words).
    private let firstElementIndex: [Int32: [Int]]
    /// Patterns whose first element is optional, negated or any token: tried everywhere.
    private let unindexedPatterns: [Int]
    /// The units each key belongs to (a multi-token word by its first token's keys), and the
    /// units each pattern cannot match without (its elements that are neither optional, negated
    /// nor any token): a pattern is tried in an utterance only when all of those units occur in
    /// it, so that a rule about weapons costs nothing in an utterance with no weapon.
    private let unitsByKey: [Int32: [Int]]
    private let requiredUnits: [[Int]]

    /// Compiles the policy's patterns. The policy was checked when it was read (syntax, concepts);
    /// words that analyse to no token are listed in `unreadableWords`.
    convenience init(policy: ScreeningPolicy, analyzer: TextAnalyzer) {
        self.init(patterns: policy.tokenPatterns, concepts: policy.concepts, analyzer: analyzer)
    }

    /// Compiles the agent's warnings (`ScreeningPolicy.agentWarnings`) over the policy's concepts.
    convenience init(agentWarningsOf policy: ScreeningPolicy, analyzer: TextAnalyzer) {
        let patterns = policy.agentWarnings.map {
            TokenPatternRule(id: $0.id, signal: .signalUnspecified, severity: .unspecified, tokens: $0.tokens)
        }
        self.init(patterns: patterns, concepts: policy.concepts, analyzer: analyzer)
    }

    private init(patterns rules: [TokenPatternRule], concepts: [String: [String]], analyzer: TextAnalyzer) {
        self.analyzer = analyzer
        var keyIDs: [UTF8Key: Int32] = [:]
        func intern(_ key: String) -> Int32 {
            if let id = keyIDs[UTF8Key(key)] { return id }
            let id = Int32(keyIDs.count)
            keyIDs[UTF8Key(key)] = id
            return id
        }
        var wordCache: [String: [WordToken]] = [:]
        var unreadableWords: Set<String> = []
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
        /// A unit while compiling: its single-token words as a set.
        struct Draft {
            var anyToken = false
            var singles: Set<Int32> = []
            var sequences: [[WordToken]] = []
        }
        func add(_ word: String, to draft: inout Draft) {
            let tokens = compileWord(word)
            switch tokens.count {
            case 0: unreadableWords.insert(word)
            case 1: draft.singles.formUnion(tokens[0])
            default: draft.sequences.append(tokens)
            }
        }
        var conceptDrafts: [String: Draft] = [:]
        func draft(_ items: [TokenPatternSyntax.Item]) -> Draft {
            var draft = Draft()
            for item in items {
                switch item {
                case .word(let word):
                    add(word, to: &draft)
                case .surface(let word):
                    add("=" + word, to: &draft)
                case .any:
                    draft.anyToken = true
                case .concept(let name):
                    if conceptDrafts[name] == nil {
                        var concept = Draft()
                        for entry in concepts[name] ?? [] { add(entry, to: &concept) }
                        conceptDrafts[name] = concept
                    }
                    let concept = conceptDrafts[name]!
                    draft.singles.formUnion(concept.singles)
                    draft.sequences += concept.sequences
                }
            }
            return draft
        }
        var drafts: [Draft] = []
        var elements: [Element] = []
        func compile(_ syntax: TokenPatternSyntax) -> Range<Int> {
            let start = elements.count
            for element in syntax.elements {
                switch element {
                case .match(let items, let optional):
                    drafts.append(draft(items))
                    elements.append(.match(unit: drafts.count - 1, optional: optional))
                case .gap(let count, let across, let except):
                    if !except.isEmpty { drafts.append(draft(except)) }
                    elements.append(.gap(count, acrossSentences: across, except: except.isEmpty ? nil : drafts.count - 1))
                case .not(let items):
                    drafts.append(draft(items))
                    elements.append(.not(unit: drafts.count - 1))
                }
            }
            return start..<elements.count
        }
        var patterns: [Pattern] = []
        for rule in rules {
            let tokens = compile(rule.tokens)
            let then = rule.then.map(compile)
            let until = rule.until.map(compile)
            patterns.append(
                Pattern(
                    id: rule.id, signal: rule.signal, severity: rule.severity, tokens: tokens, then: then, cancels: rule.cancels,
                    reach: rule.reach, until: until, confirmedByModel: rule.confirmedByModel, hint: rule.hint))
        }
        let wordsPerRow = max(1, (keyIDs.count + 63) / 64)
        var bits = [UInt64](repeating: 0, count: wordsPerRow * drafts.count)
        var units: [Unit] = []
        for (row, draft) in drafts.enumerated() {
            for key in draft.singles { bits[row * wordsPerRow + Int(key) / 64] |= 1 << UInt64(Int(key) % 64) }
            units.append(Unit(anyToken: draft.anyToken, row: row, sequences: draft.sequences))
        }
        var unitsByKey: [Int32: [Int]] = [:]
        for (unit, draft) in drafts.enumerated() where !draft.anyToken {
            var keys = draft.singles
            for sequence in draft.sequences { keys.formUnion(sequence[0]) }
            for key in keys { unitsByKey[key, default: []].append(unit) }
        }
        let requiredUnits = patterns.map { pattern in
            elements[pattern.tokens].compactMap { element -> Int? in
                guard case .match(let unit, optional: false) = element, !drafts[unit].anyToken else { return nil }
                return unit
            }
        }
        var firstElementIndex: [Int32: [Int]] = [:]
        var unindexedPatterns: [Int] = []
        for (index, pattern) in patterns.enumerated() {
            guard case .match(let unit, optional: false) = elements[pattern.tokens.lowerBound], !drafts[unit].anyToken else {
                unindexedPatterns.append(index)
                continue
            }
            var firstKeys = drafts[unit].singles
            for sequence in drafts[unit].sequences { firstKeys.formUnion(sequence[0]) }
            for key in firstKeys { firstElementIndex[key, default: []].append(index) }
        }
        self.patterns = patterns
        self.elements = elements
        self.units = units
        self.bits = bits
        self.wordsPerRow = wordsPerRow
        self.keyIDs = keyIDs
        var surfaceKeyIDs: [UTF8Key: Int32] = [:]
        // By scalars, not characters: a surface word may begin with a combining mark.
        for (key, id) in keyIDs where key.text.utf8.first == UInt8(ascii: "=") {
            surfaceKeyIDs[UTF8Key(String(key.text.unicodeScalars.dropFirst()))] = id
        }
        self.surfaceKeyIDs = surfaceKeyIDs
        self.unreadableWords = unreadableWords.sorted()
        self.firstElementIndex = firstElementIndex
        self.unindexedPatterns = unindexedPatterns
        self.unitsByKey = unitsByKey
        self.requiredUnits = requiredUnits
    }

    /// The matcher's view of `tokens`.
    func keys(of tokens: [Token]) -> [Key] {
        tokens.map { token in
            Key(
                lemma: keyIDs[UTF8Key(token.lemma)] ?? -1, alternate: keyIDs[UTF8Key(token.alternate)] ?? -1,
                surface: surfaceKeyIDs[UTF8Key(Self.surfaceText(of: token))] ?? -1,
                endsSentence: token.partOfSpeech == .symbol && Self.sentenceEnds.contains(token.surface))
        }
    }

    /// The tokens the cancelling patterns' matches in one utterance take hits away from: a match,
    /// or its reported clause, on to its sentence's end or back to its sentence's start, short of
    /// where the pattern's `until` part matches. The sentences' bounds and each pattern's stops are
    /// found once per utterance, so that many reports in a long one stay linear.
    struct Clauses {
        let matcher: TokenMatcher
        let keys: [Key]
        /// Per token: the index of its sentence's first token, and the index after its last.
        private var sentenceStarts: [Int] = []
        private var sentenceEnds: [Int] = []
        /// Per pattern: where its `until` part starts, and where it ends, each in order.
        private var stops: [Int: (starts: [Int], ends: [Int])] = [:]

        init(matcher: TokenMatcher, keys: [Key]) {
            self.matcher = matcher
            self.keys = keys
        }

        mutating func tokens(of match: Match) -> Range<Int> {
            let pattern = matcher.patterns[match.pattern]
            switch pattern.reach {
            case .match:
                return match.tokens
            case .toSentenceEnd:
                findSentences()
                // The first stop that starts at or after the match's end.
                let starts = stops(of: match.pattern).starts
                let next = Self.firstIndex(in: starts) { $0 >= match.tokens.upperBound }
                let stop = next < starts.count ? starts[next] : keys.count
                return match.tokens.lowerBound..<max(match.tokens.upperBound, min(sentenceEnds[match.tokens.upperBound - 1], stop))
            case .fromSentenceStart:
                findSentences()
                // The last stop that ends at or before the match's start.
                let ends = stops(of: match.pattern).ends
                let after = Self.firstIndex(in: ends) { $0 > match.tokens.lowerBound }
                let stop = after > 0 ? ends[after - 1] : 0
                return max(sentenceStarts[match.tokens.lowerBound], stop)..<match.tokens.upperBound
            }
        }

        private mutating func findSentences() {
            guard sentenceEnds.isEmpty else { return }
            sentenceStarts = [Int](repeating: 0, count: keys.count)
            sentenceEnds = [Int](repeating: keys.count, count: keys.count)
            for index in keys.indices.dropFirst() {
                sentenceStarts[index] = keys[index - 1].endsSentence ? index : sentenceStarts[index - 1]
            }
            for index in keys.indices.reversed() where index + 1 < keys.count {
                sentenceEnds[index] = keys[index].endsSentence ? index + 1 : sentenceEnds[index + 1]
            }
        }

        private mutating func stops(of pattern: Int) -> (starts: [Int], ends: [Int]) {
            if let found = stops[pattern] { return found }
            let ranges = matcher.patterns[pattern].until.map { matcher.matchRanges($0, in: keys) } ?? []
            let found = (starts: ranges.map(\.lowerBound), ends: ranges.map(\.upperBound).sorted())
            stops[pattern] = found
            return found
        }

        /// The first index of sorted `values` where `condition` holds (it holds from there on).
        private static func firstIndex(in values: [Int], where condition: (Int) -> Bool) -> Int {
            var low = 0
            var high = values.count
            while low < high {
                let middle = (low + high) / 2
                if condition(values[middle]) { high = middle } else { low = middle + 1 }
            }
            return low
        }
    }

    private static let sentenceEnds: Set<String> = ["。", "！", "？", ".", "!", "?", "\n"]

    /// Every place where a pattern's `tokens` part matches, one match per pattern and start.
    /// Only the patterns whose first element can start at a token are tried there: the first
    /// elements' keys are indexed when the policy is compiled.
    func matches(in keys: [Key]) -> [Match] {
        // The units that occur in the utterance, one bit each.
        var present = [UInt64](repeating: 0, count: (units.count + 63) / 64)
        for key in keys {
            for id in [key.lemma, key.alternate, key.surface] where id >= 0 {
                for unit in unitsByKey[id] ?? [] { present[unit / 64] |= 1 << UInt64(unit % 64) }
            }
        }
        return scan(keys) { scan in
            var found: [Match] = []
            // Per pattern: the last start tried, or `impossible` once a unit it needs is missing.
            let impossible = -2
            var lastTried = [Int](repeating: -1, count: patterns.count)
            for start in keys.indices {
                let key = keys[start]
                func attempt(_ index: Int) {
                    guard lastTried[index] != start, lastTried[index] != impossible else { return }
                    if lastTried[index] == -1,
                        requiredUnits[index].contains(where: { present[$0 / 64] & (1 << UInt64($0 % 64)) == 0 })
                    {
                        lastTried[index] = impossible
                        return
                    }
                    lastTried[index] = start
                    if let end = scan.match(patterns[index].tokens, at: start) {
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
    }

    /// Every place where the elements `part` match, in tokens, one per start, in order.
    func matchRanges(_ part: Range<Int>, in keys: [Key]) -> [Range<Int>] {
        scan(keys) { scan in
            var ranges: [Range<Int>] = []
            for position in keys.indices {
                if let end = scan.match(part, at: position) { ranges.append(position..<max(end, position + 1)) }
            }
            return ranges
        }
    }

    private func scan<Result>(_ keys: [Key], _ body: (Scan) -> Result) -> Result {
        elements.withUnsafeBufferPointer { elements in
            units.withUnsafeBufferPointer { units in
                bits.withUnsafeBufferPointer { bits in
                    keys.withUnsafeBufferPointer { keys in
                        body(Scan(elements: elements, units: units, bits: bits, wordsPerRow: wordsPerRow, keys: keys))
                    }
                }
            }
        }
    }

    /// One utterance's keys against the compiled patterns, through unsafe views so that the
    /// recursion touches no reference counts.
    struct Scan {
        let elements: UnsafeBufferPointer<Element>
        let units: UnsafeBufferPointer<Unit>
        let bits: UnsafeBufferPointer<UInt64>
        let wordsPerRow: Int
        let keys: UnsafeBufferPointer<Key>

        /// Where the elements `part` matched from `position` end, or nil: alternatives and gaps
        /// are tried shortest first.
        func match(_ part: Range<Int>, at position: Int) -> Int? {
            guard let first = part.first else { return position }
            let rest = (first + 1)..<part.upperBound
            switch elements[first] {
            case .match(let unit, let optional):
                if let result = forEachEnd(of: unit, at: position, { match(rest, at: $0) }) { return result }
                return optional ? match(rest, at: position) : nil
            case .gap(let count, let across, let except):
                var end = position
                while true {
                    if let result = match(rest, at: end) { return result }
                    guard end < keys.count, end - position < count, across || !keys[end].endsSentence else { return nil }
                    if let except, forEachEnd(of: except, at: end, { $0 }) != nil { return nil }
                    end += 1
                }
            case .not(let unit):
                return forEachEnd(of: unit, at: position, { $0 }) == nil ? match(rest, at: position) : nil
            }
        }

        /// Calls `body` with each place the unit can end if it starts at `position`, until
        /// `body` returns a result.
        func forEachEnd(of index: Int, at position: Int, _ body: (Int) -> Int?) -> Int? {
            guard position < keys.count else { return nil }
            let unit = units[index]
            let key = keys[position]
            if unit.anyToken || has(key.lemma, unit.row) || has(key.alternate, unit.row) || has(key.surface, unit.row),
                let result = body(position + 1)
            {
                return result
            }
            guard !unit.sequences.isEmpty else { return nil }
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

        private func has(_ key: Int32, _ row: Int) -> Bool {
            key >= 0 && bits[row * wordsPerRow + Int(key) / 64] & (1 << UInt64(Int(key) % 64)) != 0
        }
    }
}
