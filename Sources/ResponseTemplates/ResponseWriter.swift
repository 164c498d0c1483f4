public import DemandScreenAPI
import Foundation
import Mustache

/// Writes the response for a screened record: picks the template for the verdict, fault
/// finding and channel family in the record's language, fills it with what is known, checks
/// the result and adds the agent notes. A rendered response that fails a check is never sent:
/// the language's fallback is sent instead, and the reason is returned for the log.
public struct ResponseWriter: Sendable {
    /// A response, and why the fallback was used instead of the chosen template, if it was.
    public struct Composition: Sendable {
        public var response: WrittenResponse
        public var fallbackReason: String?
    }

    public let templates: ResponseTemplateSet

    public init(templates: ResponseTemplateSet) {
        self.templates = templates
    }

    /// The written response for `record` as `result` judged it.
    public func respond(to record: DemandRecord, result: ScreeningResult) -> WrittenResponse {
        compose(record: record, result: result).response
    }

    /// The written response, with the reason when the fallback had to be used.
    public func compose(record: DemandRecord, result: ScreeningResult) -> Composition {
        let name = templates.template(
            language: result.language, verdict: TemplateName.VerdictPart(result.verdict),
            fault: TemplateName.FaultPart(record.assessment.companyFault), family: TemplateName.Family(record.channel))
        let values = ResponseContext.values(record: record, result: result, language: name.language, data: templates.data)
        let mayAdmitFault = result.verdict == .legitimateClaim && record.assessment.companyFault == .confirmed
        var response = WrittenResponse()
        var fallbackReason: String?
        do {
            (response.subject, response.body) = try render(name, values, mayAdmitFault: mayAdmitFault)
            response.templateID = name.id
        } catch {
            fallbackReason = "\(name.id): \(error.reason)"
            let fallback = templates.fallback(language: name.language)
            // The fallback has no tags and passed the strictest check at load: it cannot fail.
            (response.subject, response.body) = (try? render(fallback, [:], mayAdmitFault: false)) ?? ("", "")
            response.templateID = fallback.id
        }
        response.language = name.language
        response.agentNotes = templates.data.notes.compactMap { note in
            guard note.applies(to: record, result: result), note.text[name.language] != nil,
                let line = templates.library.render(values, withTemplate: Self.noteID(note.id, name.language))
            else { return nil }
            return Self.tidy(line)
        }
        return Composition(response: response, fallbackReason: fallbackReason)
    }

    static func noteID(_ id: String, _ language: String) -> String { "note:\(id):\(language)" }

    private struct RenderFailure: Error {
        let reason: String
    }

    /// Renders a template into its subject (the first line) and body (the rest), and checks it.
    private func render(_ name: TemplateName, _ values: [String: Any], mayAdmitFault: Bool) throws(RenderFailure) -> (String, String) {
        guard let text = templates.library.render(values, withTemplate: name.id) else {
            throw RenderFailure(reason: "the template is missing")
        }
        let rendered = Self.tidy(text)
        let bytes = Array(rendered.utf8)
        for marker in Self.unfilledMarkers where ByteSearch.contains(bytes, marker.bytes) {
            throw RenderFailure(reason: "the rendered text still contains \(marker.text)")
        }
        if !mayAdmitFault, let finding = SafetyCheck.standard.findings(in: rendered).first {
            throw RenderFailure(
                reason:
                    "the rendered text contains 「\(finding.phrase)」, which \(finding.commitment.rawValue), in a case whose facts do not allow it"
            )
        }
        // After `tidy` no line ends in blanks and the text neither starts nor ends with a blank
        // line, so the subject is the first line and the body the rest, without its leading blanks.
        let utf8 = rendered.utf8
        let firstBreak = utf8.firstIndex(of: UInt8(ascii: "\n")) ?? utf8.endIndex
        let subject = Self.droppingLeadingBlanks(utf8[..<firstBreak])
        let body = firstBreak < utf8.endIndex ? Self.droppingLeadingBlanks(utf8[utf8.index(after: firstBreak)...]) : ""
        guard !subject.isEmpty, !body.isEmpty else {
            throw RenderFailure(reason: "the rendered text needs a subject line and a body")
        }
        return (subject, body)
    }

    /// Marks of a text not filled in: Mustache braces, and the placeholders people type.
    private static let unfilledMarkers = ["{{", "}}", "〇〇", "○○", "××", "XXX", "TODO"].map { (text: $0, bytes: Array($0.utf8)) }

    /// Spaces, tabs, ideographic spaces (U+3000) and line breaks.
    private static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\u{3000}" || scalar == "\n" || scalar == "\r"
    }

    private static func droppingLeadingBlanks(_ text: Substring.UTF8View) -> String {
        let scalars = Substring(text).unicodeScalars
        return String(scalars[(scalars.firstIndex { !isBlank($0) } ?? scalars.endIndex)...])
    }

    /// Trailing spaces removed, at most one blank line in a row, no blank lines at the ends.
    static func tidy(_ text: String) -> String {
        var lines: [Substring] = []
        let utf8 = text.utf8
        var lineStart = utf8.startIndex
        while lineStart <= utf8.endIndex {
            let lineEnd = utf8[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? utf8.endIndex
            let scalars = Substring(utf8[lineStart..<lineEnd]).unicodeScalars
            var end = scalars.endIndex
            while end > scalars.startIndex {
                let previous = scalars.index(before: end)
                guard isBlank(scalars[previous]) else { break }
                end = previous
            }
            let line = Substring(scalars[..<end])
            if !(line.isEmpty && (lines.last?.isEmpty ?? true)) { lines.append(line) }
            guard lineEnd < utf8.endIndex else { break }
            lineStart = utf8.index(after: lineEnd)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }
}
