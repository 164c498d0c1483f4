import Mustache

/// The checks every template passes when a set is loaded, the operator's included.
enum TemplateCheck {
    /// Put before every template: responses are plain text, so nothing is HTML-escaped.
    static let textPragma = "{{% CONTENT_TYPE: TEXT}}\n"

    /// Checks and parses one template.
    ///
    /// - Only the tags of plain Mustache that this module's checks can see through: variables
    ///   and sections of the known keys, and comments. No partials, parents, blocks or delimiter
    ///   changes, and no unknown key (a typo would render as nothing).
    /// - A value that is not always known is used only inside its own section.
    /// - The text outside comments, with and without its tags, has no refused phrase unless the
    ///   template may admit fault.
    /// - The fallback has no tags but comments, so that it renders the same for every case.
    static func parse(_ text: String, name: TemplateName, source: String) throws(TemplateSetError) -> MustacheTemplate {
        let template: MustacheTemplate
        do {
            template = try MustacheTemplate(string: textPragma + text)
        } catch let error as MustacheTemplate.ParserError {
            throw TemplateSetError(file: source, problem: "line \(error.context.lineNumber - 1): \(error.error)")
        } catch {
            throw TemplateSetError(file: source, problem: "\(error)")
        }
        let uncommented = text.replacing(/\{\{![\s\S]*?\}\}/, with: "")
        try checkTags(uncommented, source: source, allowsTags: name.purpose != .fallback)
        try checkOptionalValues(uncommented, source: source)
        let untagged = uncommented.replacing(/\{\{[^}]*\}?\}\}/, with: "")
        if !name.mayAdmitFault, let finding = SafetyCheck.standard.findings(in: uncommented + "\n" + untagged).first {
            throw TemplateSetError(
                file: source,
                problem: "contains 「\(finding.phrase)」, which \(finding.commitment.rawValue); a template that may answer a case "
                    + "whose fault is not confirmed must not (only <language>/legitimate.confirmed.*.mustache may)")
        }
        return template
    }

    /// Checks and parses an agent note: the same tags as a template. Notes are for the agent and
    /// never sent, so they may name what must not be written.
    static func parseNote(_ text: String, source: String) throws(TemplateSetError) -> MustacheTemplate {
        try checkTags(text, source: source, allowsTags: true)
        try checkOptionalValues(text, source: source)
        do {
            return try MustacheTemplate(string: textPragma + text)
        } catch {
            throw TemplateSetError(file: source, problem: "not a valid Mustache text: \(error)")
        }
    }

    private static func checkTags(_ text: String, source: String, allowsTags: Bool) throws(TemplateSetError) {
        for match in text.matches(of: /\{\{(\{?)\s*([#^\/&>$<=]?)\s*([^}\s]*)\s*\}?\}\}/) {
            let tag = String(match.output.0)
            guard allowsTags else {
                throw TemplateSetError(file: source, problem: "a fallback may contain only text and comments, found \(tag)")
            }
            let sigil = match.output.2
            guard [">", "$", "<", "="].allSatisfy({ $0 != sigil }) else {
                throw TemplateSetError(
                    file: source, problem: "\(tag): partials, blocks and delimiter changes are not supported in response templates")
            }
            let key = String(match.output.3)
            guard ResponseContext.keys.contains(key) else {
                throw TemplateSetError(
                    file: source,
                    problem: "\(tag): unknown key '\(key)'; the keys are \(ResponseContext.keys.sorted().joined(separator: ", "))")
            }
        }
    }

    private static func checkOptionalValues(_ text: String, source: String) throws(TemplateSetError) {
        for key in ResponseContext.optionalValues {
            // The keys are plain identifiers, so these patterns always compile.
            let section = try! Regex("\\{\\{#\\s*\(key)\\s*\\}\\}[\\s\\S]*?\\{\\{/\\s*\(key)\\s*\\}\\}")
            let bare = try! Regex("\\{\\{[{&]?\\s*\(key)\\s*\\}?\\}\\}")
            if text.replacing(section, with: "").contains(bare) {
                throw TemplateSetError(
                    file: source,
                    problem:
                        "{{\(key)}} is used outside {{#\(key)}}…{{/\(key)}}; it is not always known, so its sentence must be in that section"
                )
            }
        }
    }
}
