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

    init(index: Int, text: String, matcher: PolicyMatcher) {
        let folded = NormalizedText(text)
        let matches = matcher.matches(in: folded)
        let exceptionRanges = matches.filter { $0.pattern.meaning == .exception }.map(\.range)
        let reports = matches.contains { $0.pattern.meaning == .reportingCue }
        let quotations = reports ? Self.quotationRanges(in: text) : []
        var elements: Set<Element> = []
        var scalars: [Unicode.Scalar]?

        for (pattern, range) in matches {
            switch pattern.meaning {
            case .signal(let kind, let severity):
                if exceptionRanges.contains(where: { $0.overlaps(range) }) { continue }
                let source = folded.sourceRange(ofBytes: range)
                if quotations.contains(where: { $0.contains(source.lowerBound) }) { continue }
                if scalars == nil { scalars = Array(text.unicodeScalars) }
                var evidence = Evidence()
                evidence.utteranceIndex = UInt32(index)
                evidence.start = UInt32(source.lowerBound)
                evidence.end = UInt32(source.upperBound)
                evidence.excerpt = String(String.UnicodeScalarView(scalars![source]))
                evidence.rule = pattern.term
                hits.append(Hit(signal: kind, severity: severity, evidence: evidence))
            case .writtenStatement:
                demandsWrittenStatement = true
            case .element(let element):
                elements.insert(element)
            case .exception, .reportingCue:
                break
            }
        }
        // Keep the longest hit where hits of one signal overlap (殺すぞ inside ぶっ殺すぞ).
        hits = Self.longestPerOverlap(hits)
        if elements.contains(.demand) || hits.contains(where: { $0.signal == .signalCoercion }) {
            element = .demand
        } else if elements.contains(.dissatisfaction) || hits.contains(where: { $0.signal == .signalAbusiveLanguage }) {
            element = .dissatisfaction
        } else if elements.contains(.opinion) {
            element = .opinion
        }
    }

    /// Scalar ranges inside 「」, 『』, “” or straight double quotes.
    static func quotationRanges(in text: String) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var open: (index: Int, closer: Unicode.Scalar)?
        for (index, scalar) in text.unicodeScalars.enumerated() {
            if let current = open {
                if scalar == current.closer {
                    ranges.append(current.index..<(index + 1))
                    open = nil
                }
                continue
            }
            switch scalar {
            case "「": open = (index, "」")
            case "『": open = (index, "』")
            case "“": open = (index, "”")
            case "\"": open = (index, "\"")
            default: break
            }
        }
        return ranges
    }

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
