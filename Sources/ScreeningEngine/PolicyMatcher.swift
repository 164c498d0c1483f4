import DemandScreenAPI

/// The policy's terms compiled into one automaton, so that one pass over an utterance finds its
/// signals, exceptions, quotation cues, written-statement terms and element cues together.
struct PolicyMatcher: Sendable {
    /// What a pattern stands for.
    enum Meaning: Sendable, Hashable {
        case signal(SignalKind, Severity)
        case exception
        case reportingCue
        case writtenStatement
        case element(Element)
    }

    struct Pattern: Sendable {
        var term: String
        var meaning: Meaning
        /// Latin terms match whole words only.
        var wholeWord: Bool
        var foldedLength: Int
    }

    let automaton: PatternAutomaton
    let patterns: [Pattern]
    /// `patterns[i].wholeWord`, kept apart so that the scan touches no strings.
    private let wholeWord: [Bool]

    init(policy: ScreeningPolicy) {
        var patterns: [Pattern] = []
        var folded: [[UInt8]] = []
        func add(_ term: String, _ meaning: Meaning) {
            let bytes = NormalizedText.fold(term: term)
            guard !bytes.isEmpty else { return }
            let first = bytes[0]
            let last = bytes[bytes.count - 1]
            let isLatin: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
            patterns.append(Pattern(term: term, meaning: meaning, wholeWord: isLatin(first) || isLatin(last), foldedLength: bytes.count))
            folded.append(bytes)
        }
        for entry in policy.lexicon { add(entry.term, .signal(entry.signal, entry.severity)) }
        for term in policy.exceptions { add(term, .exception) }
        for term in policy.reportingCues { add(term, .reportingCue) }
        for term in policy.writtenStatementTerms { add(term, .writtenStatement) }
        for (element, cues) in policy.elementCues.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for cue in cues { add(cue, .element(element)) }
        }
        self.patterns = patterns
        self.wholeWord = patterns.map(\.wholeWord)
        self.automaton = PatternAutomaton(patterns: folded)
    }

    /// Every whole-word-respecting match in one folded utterance, appended to `found`.
    func matches(in text: NormalizedText, into found: inout [PatternAutomaton.Match]) {
        found.removeAll(keepingCapacity: true)
        automaton.forEachMatch(in: text.bytes) { match in
            if wholeWord[match.pattern] && (text.isWordByte(at: match.start - 1) || text.isWordByte(at: match.end)) {
                return
            }
            found.append(match)
        }
    }
}
