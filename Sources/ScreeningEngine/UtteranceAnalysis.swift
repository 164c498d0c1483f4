import DemandScreenAPI
import Morphology

/// What one pass found in one customer utterance: its signal hits (after exceptions and
/// quotations are taken out), whether it demands a written statement, and its element.
struct UtteranceAnalysis {
    struct Hit {
        var signal: SignalKind
        var severity: Severity
        var evidence: Evidence
        /// A hit of a pattern marked `confirmedByModel`: it counts only if the threat model confirms it.
        var awaitsConfirmation = false
        /// A hit of a pattern with a `hint` group: it counts only beside a cue of another group.
        var hint: String?
    }

    var hits: [Hit] = []
    /// The utterance's `ContactFeatures` with where each was read, when the threat model wants them.
    var features: [ContactFeatures.Located] = []
    var demandsWrittenStatement = false
    var element: Element = .fact
    /// Stretches (in scalars) that hold someone else's words as the policy reads them: reported
    /// clauses and quotations, so that the threat model's reading of a victim's account is not
    /// taken for the caller's own menace.
    var reportedSpeech: [Range<Int>] = []
    /// Whether the utterance reports anyone's words: a reporting cue, a reported clause or a quotation
    /// (read when the threat model wants the features).
    var reportsSpeech = false

    /// Buffers reused from one utterance to the next, so that screening a record allocates little.
    struct Scratch {
        var folded: NormalizedText
        var matches: [PatternAutomaton.Match] = []

        /// Room for utterances of up to `longest` UTF-8 bytes.
        init(longest: Int) {
            folded = NormalizedText(reservingCapacity: longest)
        }
    }

    /// The first part of a two-part pattern (`then`) met in one utterance, waiting for its
    /// second part in the caller's next one.
    struct OpenPattern {
        var pattern: Int
        var evidence: Evidence
    }

    /// Analyses one customer utterance: the policy's phrases in one pass over the folded text,
    /// its token patterns over the analyzer's tokens. `open` carries two-part patterns from the
    /// caller's previous utterance to this one, and out to the next.
    init(
        index: Int, text: String, matcher: PolicyMatcher, tokenMatcher: TokenMatcher, wantsFeatures: Bool, open: inout [OpenPattern],
        scratch: inout Scratch
    ) {
        scratch.folded.refold(text)
        matcher.matches(in: scratch.folded, into: &scratch.matches)
        // Ranges whose hits are taken away: of every signal, or of one. A reported clause takes
        // away the hits that begin in it (after a report verb) or end in it (before a quotative
        // verb); other ranges every hit they overlap.
        var cancelled: [(range: Range<Int>, signal: SignalKind, reach: TokenPatternRule.Reach)] = []
        var reports = false
        var demand = false
        var dissatisfaction = false
        var opinion = false
        for match in scratch.matches {
            let meaning = matcher.meanings[match.pattern]
            switch meaning.kind {
            case .exception: cancelled.append((scratch.folded.sourceRange(ofBytes: match.start..<match.end), .signalUnspecified, .match))
            case .reportingCue: reports = true
            case .writtenStatement: demandsWrittenStatement = true
            case .element:
                switch meaning.element {
                case .demand: demand = true
                case .dissatisfaction: dissatisfaction = true
                default: opinion = true
                }
            case .signal: break
            }
        }
        /// A hit before its evidence is written; `pair` joins the two parts of a `then` pattern,
        /// which are kept or dropped together.
        struct Candidate {
            var signal: SignalKind
            var severity: Severity
            var range: Range<Int>
            var rule: String
            var pair: Int?
            var awaitsConfirmation = false
            var hint: String?

            /// Hits kept apart from each other where they overlap: plain ones, those awaiting the
            /// model's confirmation, and each hint group's.
            var part: String { hint.map { "hint " + $0 } ?? (awaitsConfirmation ? "confirm" : "") }
        }
        /// A token pattern's hit at `range` (in scalars).
        func candidate(_ pattern: TokenMatcher.Pattern, at range: Range<Int>, pair: Int? = nil) -> Candidate {
            Candidate(
                signal: pattern.signal, severity: pattern.severity, range: range, rule: pattern.id, pair: pair,
                awaitsConfirmation: pattern.confirmedByModel, hint: pattern.hint)
        }
        func evidence(_ source: Range<Int>, rule: String) -> Evidence {
            var evidence = Evidence()
            evidence.utteranceIndex = UInt32(index)
            evidence.start = UInt32(source.lowerBound)
            evidence.end = UInt32(source.upperBound)
            evidence.excerpt = scratch.folded.excerpt(of: text, scalars: source)
            evidence.rule = rule
            return evidence
        }
        var candidates: [Candidate] = []
        for match in scratch.matches where matcher.meanings[match.pattern].kind == .signal {
            let meaning = matcher.meanings[match.pattern]
            candidates.append(
                Candidate(
                    signal: meaning.signal, severity: meaning.severity, range: scratch.folded.sourceRange(ofBytes: match.start..<match.end),
                    rule: matcher.terms[match.pattern]))
        }

        // Token patterns. A `then` part's matches are found once per utterance, so that many first
        // parts cost no more than one.
        let tokens = tokenMatcher.analyzer.analyze(text)
        // The quotation marks are scanned once: for the model's features and for the patterns' hits.
        var scanned: [Quotation]?
        if wantsFeatures {
            let quotations = Self.quotationRanges(in: text)
            scanned = quotations
            features = ContactFeatures.located(text, tokens: tokens, quotations: quotations)
        }
        let keys = tokenMatcher.keys(of: tokens)
        func source(_ range: Range<Int>) -> Range<Int> {
            tokens[range.lowerBound].source.lowerBound..<tokens[range.upperBound - 1].source.upperBound
        }
        var secondParts: [Int: [Range<Int>]] = [:]
        func secondPart(of pattern: Int, from start: Int) -> Range<Int>? {
            guard let then = tokenMatcher.patterns[pattern].then else { return nil }
            if secondParts[pattern] == nil { secondParts[pattern] = tokenMatcher.matchRanges(then, in: keys) }
            let ranges = secondParts[pattern]!
            // The first range that starts at or after `start` (they are in order of their starts).
            var low = 0
            var high = ranges.count
            while low < high {
                let middle = (low + high) / 2
                if ranges[middle].lowerBound < start { low = middle + 1 } else { high = middle }
            }
            return low < ranges.count ? ranges[low] : nil
        }
        var clauses = TokenMatcher.Clauses(matcher: tokenMatcher, keys: keys)
        var pairs = 0
        var firstParts: [(pattern: Int, range: Range<Int>)] = []
        var waitingPatterns: Set<Int> = []
        for match in tokenMatcher.matches(in: keys) {
            let pattern = tokenMatcher.patterns[match.pattern]
            let range = source(match.tokens)
            if pattern.cancels {
                cancelled.append((source(clauses.tokens(of: match)), pattern.signal, pattern.reach))
            } else if pattern.then != nil {
                if let second = secondPart(of: match.pattern, from: match.tokens.upperBound) {
                    pairs += 1
                    candidates.append(candidate(pattern, at: range, pair: pairs))
                    candidates.append(candidate(pattern, at: source(second), pair: pairs))
                } else if waitingPatterns.insert(match.pattern).inserted {
                    firstParts.append((match.pattern, range))
                }
            } else {
                candidates.append(candidate(pattern, at: range))
            }
        }

        // Japanese brackets (「」『』) hold someone's words as said; other marks are also used for
        // emphasis, so they quote only where the utterance reports speech. Scanned only when a hit
        // or the model's reading needs them.
        let quotations =
            !wantsFeatures && candidates.isEmpty && firstParts.isEmpty && open.isEmpty
            ? [] : (scanned ?? Self.quotationRanges(in: text)).filter { reports || $0.isJapaneseBracket }.map(\.range)
        func dropped(_ range: Range<Int>, _ signal: SignalKind) -> Bool {
            if cancelled.contains(where: { cancel in
                let taken =
                    switch cancel.reach {
                    case .match: cancel.range.overlaps(range)
                    case .toSentenceEnd: cancel.range.contains(range.lowerBound)
                    case .fromSentenceStart: cancel.range.contains(range.upperBound - 1)
                    }
                return taken && (cancel.signal == .signalUnspecified || cancel.signal == signal)
            }) {
                return true
            }
            // Quoted when the hit begins or ends inside quotation marks (たら、「うるせえ、殺す」).
            return quotations.contains { $0.contains(range.lowerBound) || $0.contains(range.upperBound - 1) }
        }
        if wantsFeatures {
            reportedSpeech = cancelled.filter { $0.reach != .match && Self.threatsOrAll.contains($0.signal) }.map(\.range) + quotations
            reportsSpeech = reports || !reportedSpeech.isEmpty
        }
        let droppedPairs = Set(candidates.filter { $0.pair != nil && dropped($0.range, $0.signal) }.compactMap(\.pair))
        var kept = candidates.filter { candidate in
            if let pair = candidate.pair { return !droppedPairs.contains(pair) }
            return !dropped(candidate.range, candidate.signal)
        }
        // Keep the longest hit where hits of one signal overlap (殺すぞ inside ぶっ殺すぞ), with the
        // run's highest severity; hits the model must confirm, and each hint group's, apart, so that
        // a broad pattern never swallows one that needs no confirmation, nor one cue another.
        if kept.count > 1 {
            let parts = Dictionary(grouping: kept, by: \.part)
            kept = parts.keys.sorted().flatMap { part in
                Self.longestPerOverlap(parts[part]!, range: \.range, signal: \.signal, severity: \.severity) { $0.severity = $1 }
            }
        }
        // Evidence for the first hits of each signal (and part) only: the excerpts cost a walk of the text.
        var perSignal: [String: Int] = [:]
        for candidate in kept.sorted(by: { $0.severity.rawValue > $1.severity.rawValue }) {
            let counted = candidate.part.isEmpty ? String(candidate.signal.rawValue) : candidate.part
            perSignal[counted, default: 0] += 1
            guard perSignal[counted]! <= Findings.evidenceLimit else { continue }
            hits.append(
                Hit(
                    signal: candidate.signal, severity: candidate.severity, evidence: evidence(candidate.range, rule: candidate.rule),
                    awaitsConfirmation: candidate.awaitsConfirmation, hint: candidate.hint))
        }
        hits.sort { ($0.evidence.start, $0.evidence.end) < ($1.evidence.start, $1.evidence.end) }

        // Two-part patterns: this utterance's second parts meet the first parts carried from the
        // caller's previous one; this utterance's first parts, if not dropped, wait for the next.
        for waiting in open {
            guard let second = secondPart(of: waiting.pattern, from: 0) else { continue }
            let range = source(second)
            let pattern = tokenMatcher.patterns[waiting.pattern]
            guard !dropped(range, pattern.signal) else { continue }
            let awaits = pattern.confirmedByModel
            hits.append(
                Hit(
                    signal: pattern.signal, severity: pattern.severity, evidence: waiting.evidence, awaitsConfirmation: awaits,
                    hint: pattern.hint))
            hits.append(
                Hit(
                    signal: pattern.signal, severity: pattern.severity, evidence: evidence(range, rule: pattern.id),
                    awaitsConfirmation: awaits, hint: pattern.hint))
        }
        open = firstParts.filter { !dropped($0.range, tokenMatcher.patterns[$0.pattern].signal) }.map { first in
            OpenPattern(pattern: first.pattern, evidence: evidence(first.range, rule: tokenMatcher.patterns[first.pattern].id))
        }
        if demand || hits.contains(where: { $0.signal == .signalCoercion }) {
            element = .demand
        } else if dissatisfaction || hits.contains(where: { $0.signal == .signalAbusiveLanguage }) {
            element = .dissatisfaction
        } else if opinion {
            element = .opinion
        }
    }

    /// The signals a reported clause cancels that make it someone else's menace.
    private static let threatsOrAll: Set<SignalKind> = [.signalUnspecified, .signalThreatViolence, .signalThreatExposure]

    /// A stretch inside quotation marks, in scalars, and what marks it.
    struct Quotation {
        var range: Range<Int>
        var isJapaneseBracket: Bool
        /// Inside ' ' or ‘ ’: the marks are also apostrophes, so only reported speech trusts them.
        var isSingleQuote = false
    }

    /// Scalar ranges inside 「」, 『』, “”, straight double quotes, or single quotes (' ' or ‘ ’),
    /// found on the UTF-8 bytes: a scalar starts at every byte that is not a continuation byte,
    /// and is compared by its bytes packed into one integer. A single quote opens where no letter
    /// or digit stands before it and a letter follows (not an elision such as 'cause or 'em), and
    /// closes where no space stands before it and no letter or digit follows, so that the
    /// apostrophes of don't and don’t neither open nor close one; one left open gives way to any
    /// other mark and ends unclosed at the end of its sentence (unless the quote closes right there).
    static func quotationRanges(in text: String) -> [Quotation] {
        var text = text
        return text.withUTF8 { utf8 in
            var ranges: [Quotation] = []
            var open: (index: Int, closer: UInt32)?
            var index = -1
            var position = 0
            while position < utf8.count {
                let start = position
                var packed = UInt32(utf8[position])
                position += 1
                // ASCII but for " and ' is neither a mark nor inside one's bytes; a sentence end
                // closes a single quote left open.
                if packed < 0x80 && packed != 0x22 && packed != 0x27 {
                    index += 1
                    if open?.closer == Self.anySingleQuote && Self.endsSentence(packed) && !Self.closesQuote(at: position, in: utf8) {
                        open = nil
                    }
                    continue
                }
                while position < utf8.count && utf8[position] & 0xC0 == 0x80 {
                    packed = packed << 8 | UInt32(utf8[position])
                    position += 1
                }
                index += 1
                let single = packed == 0x27 || packed == 0xE2_8098 || packed == 0xE2_8099
                if let current = open, current.closer == Self.anySingleQuote {
                    if single {
                        if packed != 0xE2_8098 && start > 0 && utf8[start - 1] != 0x20 && !Self.isLetterOrDigit(after: position, in: utf8) {
                            ranges.append(Quotation(range: current.index..<(index + 1), isJapaneseBracket: false, isSingleQuote: true))
                            open = nil
                        }
                    } else if let pair = quotationMarks.first(where: { $0.opener == packed }) {
                        open = (index, pair.closer)
                    } else if Self.endsSentence(packed) && !Self.closesQuote(at: position, in: utf8) {
                        open = nil
                    }
                } else if let current = open {
                    if packed == current.closer {
                        ranges.append(Quotation(range: current.index..<(index + 1), isJapaneseBracket: current.closer >> 16 == 0xE3))
                        open = nil
                    }
                } else if single {
                    if packed != 0xE2_8099 && !Self.isLetterOrDigit(before: start, in: utf8)
                        && Self.startsWord(at: position, in: utf8)
                    {
                        open = (index, Self.anySingleQuote)
                    }
                } else if let pair = quotationMarks.first(where: { $0.opener == packed }) {
                    open = (index, pair.closer)
                }
            }
            return ranges
        }
    }

    /// The closer recorded for an open single quote: ' or ’ closes it.
    private static let anySingleQuote: UInt32 = 0x27

    /// 。！？ (packed UTF-8), . ! ? or a line break.
    private static func endsSentence(_ packed: UInt32) -> Bool {
        switch packed {
        case 0x2E, 0x21, 0x3F, 0x0A, 0x0D, 0xE3_8082, 0xEF_BC81, 0xEF_BC9F: true
        default: false
        }
    }

    /// Whether ' or ’ stands at `offset`: a sentence that ends inside a single quote ("…run you
    /// over.'") still closes it.
    private static func closesQuote(at offset: Int, in utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard offset < utf8.count else { return false }
        return utf8[offset] == 0x27
            || (offset + 2 < utf8.count && utf8[offset] == 0xE2 && utf8[offset + 1] == 0x80 && utf8[offset + 2] == 0x99)
    }

    /// Whether the scalar starting at `offset` is a letter or a digit (false past the end).
    private static func isLetterOrDigit(after offset: Int, in utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard offset < utf8.count else { return false }
        var end = offset + 1
        while end < utf8.count && utf8[end] & 0xC0 == 0x80 { end += 1 }
        return isLetterOrDigit(utf8[offset..<end])
    }

    /// Whether the scalar ending just before `offset` is a letter or a digit (false at the start).
    private static func isLetterOrDigit(before offset: Int, in utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard offset > 0 else { return false }
        var start = offset - 1
        while start > 0 && utf8[start] & 0xC0 == 0x80 { start -= 1 }
        return isLetterOrDigit(utf8[start..<offset])
    }

    private static func isLetterOrDigit(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        if bytes.count == 1, let byte = bytes.first {
            return (0x30...0x39).contains(byte) || (0x61...0x7A).contains(byte | 0x20)
        }
        guard let scalar = String(decoding: bytes, as: UTF8.self).unicodeScalars.first else { return false }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    /// Whether a word (a letter first) starts at `offset`, and it is not one of the elisions an
    /// apostrophe begins ('cause, 'em, 'til, 'bout, 'round, 'n, 'tis, 'twas).
    private static func startsWord(at offset: Int, in utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard offset < utf8.count, isLetterOrDigit(after: offset, in: utf8), !(0x30...0x39).contains(utf8[offset]) else { return false }
        var end = offset
        while end < utf8.count && end - offset < 6 && (utf8[end] | 0x20) >= 0x61 && (utf8[end] | 0x20) <= 0x7A { end += 1 }
        guard !isLetterOrDigit(after: end, in: utf8) else { return true }
        return !elisions.contains(String(decoding: utf8[offset..<end], as: UTF8.self).lowercased())
    }

    private static let elisions: Set<String> = ["cause", "em", "til", "bout", "round", "n", "tis", "twas"]

    /// Opening and closing quotation marks, as UTF-8 bytes packed into one integer.
    private static let quotationMarks: [(opener: UInt32, closer: UInt32)] = [
        (0xE3808C, 0xE3808D),  // 「」
        (0xE3808E, 0xE3808F),  // 『』
        (0xE2809C, 0xE2809D),  // “”
        (0x22, 0x22),  // ""
    ]

    /// One hit per overlapping run of hits of one signal: the longest, with the run's highest
    /// severity. In one sweep over the hits in order of where they start, so that an utterance
    /// with thousands of hits costs in proportion to them.
    static func longestPerOverlap<Item>(
        _ items: [Item], range: (Item) -> Range<Int>, signal: (Item) -> SignalKind, severity: (Item) -> Severity,
        setSeverity: (inout Item, Severity) -> Void
    ) -> [Item] {
        let ordered = items.sorted {
            (signal($0).rawValue, range($0).lowerBound, -range($0).upperBound) < (
                signal($1).rawValue, range($1).lowerBound, -range($1).upperBound
            )
        }
        var kept: [Item] = []
        for item in ordered {
            if let last = kept.last, signal(last) == signal(item), range(item).lowerBound < range(last).upperBound {
                let strongest = severity(item).rawValue > severity(last).rawValue ? severity(item) : severity(last)
                if range(item).count > range(last).count { kept[kept.count - 1] = item }
                setSeverity(&kept[kept.count - 1], strongest)
                continue
            }
            kept.append(item)
        }
        return kept
    }
}
