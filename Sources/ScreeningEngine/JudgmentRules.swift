public import DemandScreenAPI
import Foundation

/// The numbers and lists of the judgment that a site may change without a build: the score each
/// finding gives its criterion, the signals each part of the judgment looks at, the demands that
/// are a signal in themselves, and the rationales in each language (the policy's `scores`,
/// `signalGroups`, `demandSignals` and `rationales`).
public struct JudgmentRules: Sendable {
    /// A finding of the proportionality criterion, by its name in the policy.
    public enum ProportionalityFinding: String, CaseIterable, Sendable {
        case moneyWithoutFault, somewhatAbove, excessive, gross, lossUnverified, spokenExcess, noConcreteDemand
    }

    /// A finding of the relevance criterion, by its name in the policy.
    public enum RelevanceFinding: String, CaseIterable, Sendable {
        case unclearPurpose, noDemandYet, unrelatedAtMost
    }

    /// CRITERION_RESPONSIBILITY's score for each fault finding.
    public var responsibilityScores: [Fault: Double]
    /// CRITERION_CAUSATION's score for each causation finding.
    public var causationScores: [Causation: Double]
    /// The most CRITERION_PROPORTIONALITY can score with each finding.
    public var proportionalityScores: [ProportionalityFinding: Double]
    /// CRITERION_RELEVANCE's score for each finding (`unrelatedAtMost` scales the related share).
    public var relevanceScores: [RelevanceFinding: Double]
    /// Weighed in CRITERION_CONDUCT; three or more at once raise the risk to HIGH.
    public var conductSignals: [SignalKind]
    /// Unacceptable means: with a gross demand the demand is unjust; money demanded under them
    /// goes to legal.
    public var pressureSignals: Set<SignalKind>
    /// A repeated call with any of these is not a follow-up of an open claim, however sound
    /// the claim (default: the pressure signals and SIGNAL_EXCESSIVE_DEMAND).
    public var notAFollowUpSignals: Set<SignalKind>
    /// Menace that makes a demand unjust beside any demand out of proportion (SIGNAL_EXCESSIVE_DEMAND,
    /// whatever its severity): the means serve the excess (empty when the policy leaves it out). A
    /// threat only the threat model read does not count.
    public var leverageSignals: Set<SignalKind>
    /// A claim with any of these is not judged legitimate outright.
    public var inDoubtSignals: Set<SignalKind>
    /// Demands that raise a signal by being made (a kneeling apology: coercion).
    public var demandSignals: [DemandKind: (signal: SignalKind, severity: Severity)]
    /// The criteria's rationales per language.
    public var rationales: RationaleCatalog
}

/// The rationale texts of the five criteria per language, with `{name}` placeholders.
public struct RationaleCatalog: Sendable {
    /// A rationale, by its key in the policy.
    public enum Key: String, CaseIterable, Sendable {
        case listSeparator, sentenceSeparator
        case responsibilityConfirmed = "responsibility.FAULT_CONFIRMED"
        case responsibilityPartial = "responsibility.FAULT_PARTIAL"
        case responsibilityNone = "responsibility.FAULT_NONE"
        case responsibilityUnknown = "responsibility.FAULT_UNKNOWN"
        case causationConfirmed = "causation.CAUSATION_CONFIRMED"
        case causationPlausible = "causation.CAUSATION_PLAUSIBLE"
        case causationNone = "causation.CAUSATION_NONE"
        case causationUnknown = "causation.CAUSATION_UNKNOWN"
        case conductClean = "conduct.clean"
        case conductInQuestion = "conduct.inQuestion"
        case pricelessDemand = "proportionality.priceless"
        case moneyWithoutFault = "proportionality.moneyWithoutFault"
        case amountMatches = "proportionality.matches"
        case amountSomewhatAbove = "proportionality.somewhatAbove"
        case amountRatio = "proportionality.ratio"
        case lossUnverified = "proportionality.lossUnverified"
        case spokenExcess = "proportionality.spokenExcess"
        case noConcreteDemand = "proportionality.noConcreteDemand"
        case nothingDemanded = "proportionality.nothingDemanded"
        case inProportion = "proportionality.inProportion"
        case purposeUnclear = "relevance.unclearPurpose"
        case noDemandYet = "relevance.noDemandYet"
        case demandsRelated = "relevance.related"
        case demandsUnrelated = "relevance.unrelated"
    }

    /// The languages the judgment answers in; each must have every key.
    public static let languages = ["ja", "en"]

    var texts: [String: [Key: String]]

    /// The text of `key` in `language` (English for a language the catalog lacks), with each
    /// `{name}` replaced by `values[name]`.
    public func text(_ key: Key, _ language: String, _ values: [String: String] = [:]) -> String {
        let text = texts[language]?[key] ?? texts["en"]?[key] ?? ""
        guard !values.isEmpty else { return text }
        // One pass over the text (a call writes a dozen rationales: Foundation's search and
        // replace, once per value, was a tenth of a call's CPU).
        var filled = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "{") {
            filled += rest[..<open]
            let afterOpen = rest.index(after: open)
            if let close = rest[afterOpen...].firstIndex(of: "}"), let value = values[String(rest[afterOpen..<close])] {
                filled += value
                rest = rest[rest.index(after: close)...]
            } else {
                filled.append("{")
                rest = rest[afterOpen...]
            }
        }
        return filled + rest
    }
}
