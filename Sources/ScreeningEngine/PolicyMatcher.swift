import DemandScreenAPI

/// The policy's terms compiled into one automaton, so that one pass over an utterance finds its
/// signals, exceptions, quotation cues, written-statement terms and element cues together.
/// A class: shared by reference, so that passing it around retains one object, not its tables.
final class PolicyMatcher: Sendable {
    /// What a pattern stands for: a plain struct, so that the per-match dispatch is a byte compare.
    struct Meaning: Sendable {
        enum Kind: UInt8, Sendable {
            case signal, exception, reportingCue, writtenStatement, element
        }
        var kind: Kind
        var signal: SignalKind = .signalUnspecified
        var severity: Severity = .unspecified
        var element: Element = .unspecified

        static func signal(_ signal: SignalKind, _ severity: Severity) -> Meaning {
            Meaning(kind: .signal, signal: signal, severity: severity)
        }
        static func element(_ element: Element) -> Meaning { Meaning(kind: .element, element: element) }
        static let exception = Meaning(kind: .exception)
        static let reportingCue = Meaning(kind: .reportingCue)
        static let writtenStatement = Meaning(kind: .writtenStatement)
    }

    let automaton: PatternAutomaton
    /// The policy's term behind each pattern, for evidence.
    let terms: [String]
    /// What each pattern stands for; kept apart from the terms so that the scan touches no strings.
    let meanings: [Meaning]
    /// Latin terms match whole words only.
    private let wholeWord: [Bool]

    init(policy: ScreeningPolicy) {
        var terms: [String] = []
        var meanings: [Meaning] = []
        var wholeWord: [Bool] = []
        var folded: [[UInt8]] = []
        func add(_ term: String, _ meaning: Meaning) {
            let bytes = NormalizedText.fold(term: term)
            guard !bytes.isEmpty else { return }
            terms.append(term)
            meanings.append(meaning)
            wholeWord.append(bytes[0].isFoldedWordByte || bytes[bytes.count - 1].isFoldedWordByte)
            folded.append(bytes)
        }
        for entry in policy.lexicon { add(entry.term, .signal(entry.signal, entry.severity)) }
        for term in policy.exceptions { add(term, .exception) }
        for term in policy.reportingCues { add(term, .reportingCue) }
        for term in policy.writtenStatementTerms { add(term, .writtenStatement) }
        for (element, cues) in policy.elementCues.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for cue in cues { add(cue, .element(element)) }
        }
        self.terms = terms
        self.meanings = meanings
        self.wholeWord = wholeWord
        self.automaton = PatternAutomaton(patterns: folded)
    }

    /// Every whole-word-respecting match in one folded utterance, appended to `found`.
    func matches(in text: NormalizedText, into found: inout [PatternAutomaton.Match]) {
        found.removeAll(keepingCapacity: true)
        text.withBytes { bytes in
            automaton.forEachMatch(in: bytes) { match in
                if wholeWord[match.pattern] && (text.isWordByte(at: match.start - 1) || text.isWordByte(at: match.end)) {
                    return
                }
                found.append(match)
            }
        }
    }
}
