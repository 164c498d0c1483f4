import DemandScreenAPI
import Morphology

/// What one pass found in one customer utterance: its signal hits (after exceptions and
/// quotations are taken out), whether it demands a written statement, and its element.
struct UtteranceAnalysis {
    struct Hit {
        var signal: SignalKind
        var severity: Severity
        var evidence: Evidence
    }

    var hits: [Hit] = []
    var demandsWrittenStatement = false
    var element: Element = .fact

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
        index: Int, text: String, matcher: PolicyMatcher, tokenMatcher: TokenMatcher, open: inout [OpenPattern],
        scratch: inout Scratch
    ) {
        scratch.folded.refold(text)
        matcher.matches(in: scratch.folded, into: &scratch.matches)
        // Ranges whose hits are taken away: of every signal, or of one.
        var cancelled: [(range: Range<Int>, signal: SignalKind)] = []
        var reports = false
        var demand = false
        var dissatisfaction = false
        var opinion = false
        for match in scratch.matches {
            let meaning = matcher.meanings[match.pattern]
            switch meaning.kind {
            case .exception: cancelled.append((scratch.folded.sourceRange(ofBytes: match.start..<match.end), .signalUnspecified))
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
        func evidence(_ source: Range<Int>, rule: String, utterance: Int = index, text: String = text) -> Evidence {
            var evidence = Evidence()
            evidence.utteranceIndex = UInt32(utterance)
            evidence.start = UInt32(source.lowerBound)
            evidence.end = UInt32(source.upperBound)
            evidence.excerpt = scratch.folded.excerpt(of: text, scalars: source)
            evidence.rule = rule
            return evidence
        }
        var candidates: [Hit] = []
        for match in scratch.matches where matcher.meanings[match.pattern].kind == .signal {
            let meaning = matcher.meanings[match.pattern]
            let source = scratch.folded.sourceRange(ofBytes: match.start..<match.end)
            candidates.append(Hit(signal: meaning.signal, severity: meaning.severity, evidence: evidence(source, rule: matcher.terms[match.pattern])))
        }

        // Token patterns.
        let tokens = tokenMatcher.analyzer.analyze(text)
        let keys = tokenMatcher.keys(of: tokens)
        func source(_ range: Range<Int>) -> Range<Int> {
            tokens[range.lowerBound].source.lowerBound..<tokens[range.upperBound - 1].source.upperBound
        }
        var stillOpen: [OpenPattern] = []
        for match in tokenMatcher.matches(in: keys) {
            let pattern = tokenMatcher.patterns[match.pattern]
            let found = evidence(source(match.tokens), rule: pattern.id)
            if pattern.cancels {
                cancelled.append((source(match.tokens), pattern.signal))
            } else if let then = pattern.then {
                if let second = tokenMatcher.firstMatch(then, in: keys, from: match.tokens.upperBound) {
                    candidates.append(Hit(signal: pattern.signal, severity: pattern.severity, evidence: found))
                    candidates.append(Hit(signal: pattern.signal, severity: pattern.severity, evidence: evidence(source(second), rule: pattern.id)))
                } else {
                    stillOpen.append(OpenPattern(pattern: match.pattern, evidence: found))
                }
            } else {
                candidates.append(Hit(signal: pattern.signal, severity: pattern.severity, evidence: found))
            }
        }
        for waiting in open {
            let pattern = tokenMatcher.patterns[waiting.pattern]
            guard let then = pattern.then, let second = tokenMatcher.firstMatch(then, in: keys, from: 0) else { continue }
            candidates.append(Hit(signal: pattern.signal, severity: pattern.severity, evidence: waiting.evidence))
            candidates.append(Hit(signal: pattern.signal, severity: pattern.severity, evidence: evidence(source(second), rule: pattern.id)))
        }
        open = stillOpen

        // Japanese brackets (「」『』) hold someone's words as said; other marks are also used for
        // emphasis, so they quote only where the utterance reports speech.
        let quotations = candidates.isEmpty ? [] : Self.quotationRanges(in: text).filter { reports || $0.isJapaneseBracket }.map(\.range)
        for hit in candidates {
            let range = Int(hit.evidence.start)..<Int(hit.evidence.end)
            // A hit carried from the previous utterance was checked there.
            if hit.evidence.utteranceIndex == UInt32(index) {
                if cancelled.contains(where: { $0.range.overlaps(range) && ($0.signal == .signalUnspecified || $0.signal == hit.signal) }) { continue }
                // Quoted when the hit begins or ends inside quotation marks (たら、「うるせえ、殺す」).
                if quotations.contains(where: { $0.contains(range.lowerBound) || $0.contains(range.upperBound - 1) }) { continue }
            }
            hits.append(hit)
        }
        // Keep the longest hit where hits of one signal overlap (殺すぞ inside ぶっ殺すぞ).
        if hits.count > 1 { hits = Self.longestPerOverlap(hits) }
        if demand || hits.contains(where: { $0.signal == .signalCoercion }) {
            element = .demand
        } else if dissatisfaction || hits.contains(where: { $0.signal == .signalAbusiveLanguage }) {
            element = .dissatisfaction
        } else if opinion {
            element = .opinion
        }
    }

    /// A stretch inside quotation marks, in scalars, and whether its marks are Japanese brackets.
    struct Quotation {
        var range: Range<Int>
        var isJapaneseBracket: Bool
    }

    /// Scalar ranges inside 「」, 『』, “” or straight double quotes, found on the UTF-8 bytes:
    /// a scalar starts at every byte that is not a continuation byte, and is compared by its
    /// bytes packed into one integer.
    static func quotationRanges(in text: String) -> [Quotation] {
        var text = text
        return text.withUTF8 { utf8 in
            var ranges: [Quotation] = []
            var open: (index: Int, closer: UInt32)?
            var index = -1
            var position = 0
            while position < utf8.count {
                var packed = UInt32(utf8[position])
                position += 1
                // ASCII but for " is neither a mark nor inside one's bytes.
                if packed < 0x80 && packed != 0x22 {
                    index += 1
                    continue
                }
                while position < utf8.count && utf8[position] & 0xC0 == 0x80 {
                    packed = packed << 8 | UInt32(utf8[position])
                    position += 1
                }
                index += 1
                if let current = open {
                    if packed == current.closer {
                        ranges.append(Quotation(range: current.index..<(index + 1), isJapaneseBracket: current.closer >> 16 == 0xE3))
                        open = nil
                    }
                } else if let pair = quotationMarks.first(where: { $0.opener == packed }) {
                    open = (index, pair.closer)
                }
            }
            return ranges
        }
    }

    /// Opening and closing quotation marks, as UTF-8 bytes packed into one integer.
    private static let quotationMarks: [(opener: UInt32, closer: UInt32)] = [
        (0xE3808C, 0xE3808D),  // 「」
        (0xE3808E, 0xE3808F),  // 『』
        (0xE2809C, 0xE2809D),  // “”
        (0x22, 0x22),  // ""
    ]

    /// One hit per run of overlapping hits of one signal in one utterance: the longest. In one
    /// sweep over the hits in order of where they start, so that an utterance with thousands of
    /// hits costs in proportion to them.
    private static func longestPerOverlap(_ hits: [Hit]) -> [Hit] {
        let ordered = hits.sorted {
            ($0.signal.rawValue, $0.evidence.utteranceIndex, $0.evidence.start, $1.evidence.end)
                < ($1.signal.rawValue, $1.evidence.utteranceIndex, $1.evidence.start, $0.evidence.end)
        }
        var kept: [Hit] = []
        var runEnd: UInt32 = 0
        for hit in ordered {
            if let last = kept.last, last.signal == hit.signal, last.evidence.utteranceIndex == hit.evidence.utteranceIndex,
                hit.evidence.start < runEnd
            {
                runEnd = max(runEnd, hit.evidence.end)
                if hit.evidence.end - hit.evidence.start > last.evidence.end - last.evidence.start { kept[kept.count - 1] = hit }
                continue
            }
            kept.append(hit)
            runEnd = hit.evidence.end
        }
        return kept.sorted { ($0.evidence.utteranceIndex, $0.evidence.start, $0.evidence.end) < ($1.evidence.utteranceIndex, $1.evidence.start, $1.evidence.end) }
    }
}
