import DemandScreenAPI
public import Foundation
import Mustache

/// Why a template set was refused: the file at fault and what is wrong with it.
public struct TemplateSetError: Error, Sendable, CustomStringConvertible {
    /// The file, as a path in the operator's folder or `built-in <id>.mustache`.
    public var file: String
    public var problem: String

    public var description: String { "\(file): \(problem)" }
}

/// The templates and `responses.yaml` in force: the built-in folder (shipped as a resource of
/// this module), with the files of an optional operator folder laid over it (a file with the
/// same path replaces the built-in one; the others stay built-in). Every template is checked
/// when the set is loaded; a set with one bad file is refused whole.
public struct ResponseTemplateSet: Sendable {
    /// The operator's folder laid over the built-in one, if any.
    public let overrideDirectory: String?
    /// Each template's id and where it was read from, for logs and previews.
    public let sources: [String: String]
    let library: MustacheLibrary
    let names: Set<TemplateName>
    let data: ResponseData

    /// The promises the templates make, from `responses.yaml`.
    public var commitments: Commitments { data.commitments }

    /// The built-in set. Tests guarantee that it loads.
    public static func builtIn() -> ResponseTemplateSet {
        do {
            return try ResponseTemplateSet(overrideDirectory: nil)
        } catch {
            preconditionFailure("the built-in response templates are invalid: \(error)")
        }
    }

    /// Loads the built-in set and lays `overrideDirectory` over it; throws for the first file
    /// that fails a check, naming it.
    public init(overrideDirectory: String?) throws(TemplateSetError) {
        guard let builtInURL = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            preconditionFailure("the Templates resource is missing from the ResponseTemplates bundle")
        }
        var files = try Self.readFolder(builtInURL.path, describe: { "built-in \($0)" })
        var responsesOverride: (text: String, source: String)?
        if let overrideDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: overrideDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw TemplateSetError(file: overrideDirectory, problem: "is not a folder")
            }
            let operatorFiles = try Self.readFolder(overrideDirectory, describe: { "\(overrideDirectory)/\($0)" })
            responsesOverride = operatorFiles.responses
            files.templates.merge(operatorFiles.templates) { $1 }
        }
        guard let builtInResponses = files.responses else {
            preconditionFailure("responses.yaml is missing from the built-in templates")
        }
        data = try ResponseData.load(builtIn: builtInResponses.text, override: responsesOverride)

        var templates: [String: MustacheTemplate] = [:]
        var sources: [String: String] = [:]
        for (name, file) in files.templates {
            templates[name.id] = try TemplateCheck.parse(file.text, name: name, source: file.source)
            sources[name.id] = file.source
        }
        let languages = Set(files.templates.keys.map(\.language))
        for language in languages.sorted() {
            for required in TemplateName.required(language: language) where files.templates[required] == nil {
                throw TemplateSetError(
                    file: overrideDirectory.map { "\($0)/\(required.fileName)" } ?? "built-in \(required.fileName)",
                    problem: "missing: every language needs the generic template of each verdict and channel family, and a fallback")
            }
        }
        for note in data.notes {
            for (language, text) in note.text {
                templates[ResponseWriter.noteID(note.id, language)] = try TemplateCheck.parseNote(
                    text, source: "\(note.source), note '\(note.id)' (\(language))")
            }
        }
        self.overrideDirectory = overrideDirectory
        self.sources = sources
        self.names = Set(files.templates.keys)
        self.library = MustacheLibrary(templates: templates)
    }

    /// The template for a case: the fault finding's own template if the set has one, else the
    /// verdict's generic one; the fallback when there is no verdict. A language the set does
    /// not have is answered in English.
    public func template(
        language: String, verdict: TemplateName.VerdictPart?, fault: TemplateName.FaultPart, family: TemplateName.Family
    ) -> TemplateName {
        let language = names.contains { $0.language == language } ? language : "en"
        guard let verdict else { return fallback(language: language) }
        let specific = TemplateName(language: language, purpose: .answer(verdict: verdict, fault: fault, family: family))
        if names.contains(specific) { return specific }
        return TemplateName(language: language, purpose: .answer(verdict: verdict, fault: nil, family: family))
    }

    func fallback(language: String) -> TemplateName {
        TemplateName(language: language, purpose: .fallback)
    }

    private struct Folder {
        var templates: [TemplateName: (text: String, source: String)] = [:]
        var responses: (text: String, source: String)?
    }

    /// The `*.mustache` files (every one must be named by the scheme) and `responses.yaml` of a
    /// folder; other files are ignored, and so are hidden files and folders (a Kubernetes
    /// ConfigMap mounted as a folder keeps its files in a hidden `..<timestamp>/` folder and links
    /// them from the top).
    private static func readFolder(_ path: String, describe: (String) -> String) throws(TemplateSetError) -> Folder {
        var folder = Folder()
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw TemplateSetError(file: path, problem: "cannot be read")
        }
        for case let relative as String in enumerator {
            guard !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { continue }
            let isTemplate = relative.hasSuffix(".mustache")
            guard isTemplate || relative == "responses.yaml" else { continue }
            let source = describe(relative)
            guard let contents = FileManager.default.contents(atPath: "\(path)/\(relative)") else {
                throw TemplateSetError(file: source, problem: "cannot be read as UTF-8 text")
            }
            guard isTemplate else {
                folder.responses = (try text(of: contents, source: source), source)
                continue
            }
            let (name, text) = try templateFile(relative, contents: contents, source: source)
            folder.templates[name] = (text, source)
        }
        return folder
    }

    private static func text(of contents: Data, source: String) throws(TemplateSetError) -> String {
        guard let text = String(data: contents, encoding: .utf8) else {
            throw TemplateSetError(file: source, problem: "cannot be read as UTF-8 text")
        }
        return text
    }

    /// A template file's name and text, as the loader reads them before parsing.
    private static func templateFile(_ relative: String, contents: Data, source: String) throws(TemplateSetError) -> (TemplateName, String)
    {
        let text = try text(of: contents, source: source)
        guard let name = TemplateName(id: String(relative.dropLast(".mustache".count))) else {
            throw TemplateSetError(
                file: source,
                problem: "not a template name: expected <language>/<verdict>[.<fault>].<family>.mustache "
                    + "(verdict legitimate, needs-review or unjust; fault confirmed, partial, none or unknown; "
                    + "family written or conversational) or <language>/fallback.mustache")
        }
        return (name, text)
    }

    /// Puts one template file through every check the loader applies to it on its own (UTF-8,
    /// the name scheme, Mustache's parser, the tags, the optional values and the safety check);
    /// `relativePath` is its path in the folder, e.g. `en/needs-review.written.mustache`. The
    /// checks of a whole set (every required template present) are not run. For the fuzz target.
    public static func checkTemplateFile(relativePath: String, contents: Data) throws(TemplateSetError) {
        guard relativePath.hasSuffix(".mustache") else {
            throw TemplateSetError(file: relativePath, problem: "not a template file: the name must end in .mustache")
        }
        let (name, text) = try templateFile(relativePath, contents: contents, source: relativePath)
        _ = try TemplateCheck.parse(text, name: name, source: relativePath)
    }
}
