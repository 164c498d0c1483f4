import DemandScreenAPI

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

    init(index: Int, text: String, matcher: PolicyMatcher, scratch: inout Scratch) {
        scratch.folded.refold(text)
        matcher.matches(in: scratch.folded, into: &scratch.matches)
        var exceptionRanges: [Range<Int>] = []
        var reports = false
        var demand = false
        var dissatisfaction = false
        var opinion = false
        for match in scratch.matches {
            let meaning = matcher.meanings[match.pattern]
            switch meaning.kind {
            case .exception: exceptionRanges.append(match.start..<match.end)
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
        let quotations =
            reports && scratch.matches.contains(where: { matcher.meanings[$0.pattern].kind == .signal })
            ? Self.quotationRanges(in: text) : []
        for match in scratch.matches {
            let meaning = matcher.meanings[match.pattern]
            guard meaning.kind == .signal else { continue }
            let range = match.start..<match.end
            if exceptionRanges.contains(where: { $0.overlaps(range) }) { continue }
            let source = scratch.folded.sourceRange(ofBytes: range)
            if quotations.contains(where: { $0.contains(source.lowerBound) }) { continue }
            var evidence = Evidence()
            evidence.utteranceIndex = UInt32(index)
            evidence.start = UInt32(source.lowerBound)
            evidence.end = UInt32(source.upperBound)
            evidence.excerpt = scratch.folded.excerpt(of: text, scalars: source)
            evidence.rule = matcher.terms[match.pattern]
            hits.append(Hit(signal: meaning.signal, severity: meaning.severity, evidence: evidence))
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

    /// Scalar ranges inside 「」, 『』, “” or straight double quotes, found on the UTF-8 bytes:
    /// a scalar starts at every byte that is not a continuation byte, and is compared by its
    /// bytes packed into one integer.
    static func quotationRanges(in text: String) -> [Range<Int>] {
        var text = text
        return text.withUTF8 { utf8 in
            var ranges: [Range<Int>] = []
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
                        ranges.append(current.index..<(index + 1))
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

    private static func longestPerOverlap(_ hits: [Hit]) -> [Hit] {
        var kept: [Hit] = []
        for hit in hits.sorted(by: { ($0.evidence.end - $0.evidence.start) > ($1.evidence.end - $1.evidence.start) }) {
            let overlapsKept = kept.contains { other in
                other.signal == hit.signal && other.evidence.start < hit.evidence.end && hit.evidence.start < other.evidence.end
            }
            if !overlapsKept { kept.append(hit) }
        }
        return kept.sorted { ($0.evidence.start, $0.evidence.end) < ($1.evidence.start, $1.evidence.end) }
    }
}
