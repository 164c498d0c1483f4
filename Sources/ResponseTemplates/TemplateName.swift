public import DemandScreenAPI

/// The name of a template file, which says what the template is for:
/// `<language>/<verdict>[.<fault>].<family>.mustache`, or `<language>/fallback.mustache`.
///
/// - verdict: `legitimate`, `needs-review` or `unjust`;
/// - fault (optional): `confirmed`, `partial`, `none` or `unknown`; without it the template is the
///   verdict's generic one and may answer a case of any fault finding;
/// - family: `written` (letter, e-mail, web form, or no channel given) or `conversational` (chat,
///   social media, phone, in person).
///
/// The id of a template (`WrittenResponse.template_id`) is its name without `.mustache`,
/// e.g. `ja/legitimate.confirmed.written`.
public struct TemplateName: Hashable, Sendable, CustomStringConvertible {
    /// A verdict as it appears in a template name.
    public enum VerdictPart: String, CaseIterable, Sendable {
        case legitimate
        case needsReview = "needs-review"
        case unjust

        /// The name part for a verdict; nil for `VERDICT_UNSPECIFIED`, which only the fallback answers.
        public init?(_ verdict: Verdict) {
            switch verdict {
            case .legitimateClaim: self = .legitimate
            case .needsReview: self = .needsReview
            case .unjustDemand: self = .unjust
            default: return nil
            }
        }
    }

    /// A fault finding (`Assessment.company_fault`) as it appears in a template name.
    public enum FaultPart: String, CaseIterable, Sendable {
        case confirmed, partial, none, unknown

        public init(_ fault: Fault) {
            switch fault {
            case .confirmed: self = .confirmed
            case .partial: self = .partial
            case .none: self = .none
            default: self = .unknown
            }
        }
    }

    /// The channel family, which sets the register: formal for written channels, short for
    /// conversational ones.
    public enum Family: String, CaseIterable, Sendable {
        case written, conversational

        public init(_ channel: ContactChannel) {
            switch channel {
            case .chat, .socialMedia, .phone, .inPerson: self = .conversational
            default: self = .written
            }
        }
    }

    /// What a template name designates.
    public enum Purpose: Hashable, Sendable {
        /// A verdict's template, for one fault finding or (fault nil) for any.
        case answer(verdict: VerdictPart, fault: FaultPart?, family: Family)
        /// The minimal safe response used when a rendered response fails its checks.
        case fallback
    }

    public let language: String
    public let purpose: Purpose

    public init(language: String, purpose: Purpose) {
        self.language = language
        self.purpose = purpose
    }

    /// Parses an id such as `ja/unjust.written` (no `.mustache`); nil when it does not follow the scheme.
    public init?(id: String) {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, Self.isLanguageCode(parts[0]) else { return nil }
        language = String(parts[0])
        let segments = parts[1].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if segments == ["fallback"] {
            purpose = .fallback
            return
        }
        guard segments.count == 2 || segments.count == 3,
            let verdict = VerdictPart(rawValue: segments[0]),
            let family = Family(rawValue: segments[segments.count - 1])
        else { return nil }
        var fault: FaultPart?
        if segments.count == 3 {
            guard let part = FaultPart(rawValue: segments[1]) else { return nil }
            fault = part
        }
        purpose = .answer(verdict: verdict, fault: fault, family: family)
    }

    /// The id: the path in the template folder without `.mustache`.
    public var id: String {
        switch purpose {
        case .fallback:
            return "\(language)/fallback"
        case .answer(let verdict, let fault, let family):
            return "\(language)/\(verdict.rawValue)\(fault.map { ".\($0.rawValue)" } ?? "").\(family.rawValue)"
        }
    }

    public var description: String { id }

    /// The file's path in a template folder.
    public var fileName: String { "\(id).mustache" }

    /// Whether responses from this template may admit fault, promise compensation or pledge
    /// conduct: only a template for legitimate claims whose fault is confirmed. A generic
    /// template may answer a case whose fault is unknown, so it may not.
    public var mayAdmitFault: Bool {
        if case .answer(.legitimate, .confirmed?, _) = purpose { return true }
        return false
    }

    /// The templates every language must have, so that every case resolves to one.
    static func required(language: String) -> [TemplateName] {
        var names = [TemplateName(language: language, purpose: .fallback)]
        for verdict in VerdictPart.allCases {
            for family in Family.allCases {
                names.append(TemplateName(language: language, purpose: .answer(verdict: verdict, fault: nil, family: family)))
            }
        }
        return names
    }

    private static func isLanguageCode(_ text: Substring) -> Bool {
        (2...3).contains(text.count) && text.allSatisfy { ("a"..."z").contains($0) }
    }
}
