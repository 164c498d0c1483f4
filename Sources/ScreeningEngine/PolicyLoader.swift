import DemandScreenAPI
import Foundation
import Yams

/// Why a policy file was refused, with the line it is about.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    /// 1-based line in the YAML text, when known.
    public var line: Int?
    /// The path of the offending value, e.g. "lexicon[3].signal".
    public var path: String
    public var problem: String

    public var description: String {
        let place = line.map { "line \($0)" } ?? "policy"
        return path.isEmpty ? "\(place): \(problem)" : "\(place) (\(path)): \(problem)"
    }
}

extension ScreeningPolicy {
    /// The policy that ships with the engine (`Resources/default-policy.yaml`).
    public static func builtIn() -> ScreeningPolicy {
        do {
            return try ScreeningPolicy(yaml: builtInYAML())
        } catch {
            preconditionFailure("the built-in policy is invalid: \(error)")
        }
    }

    /// The text of the built-in policy, for operators to start their own from.
    public static func builtInYAML() -> String {
        guard let url = Bundle.module.url(forResource: "default-policy", withExtension: "yaml"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else {
            preconditionFailure("the built-in policy resource is missing from the ScreeningEngine bundle")
        }
        return text
    }

    /// Parses and checks a policy; every problem names its line.
    public init(yaml: String) throws(PolicyError) {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw PolicyError(line: nil, path: "", problem: "the policy is empty")
            }
            root = node
        } catch let error as PolicyError {
            throw error
        } catch let error as YamlError {
            throw PolicyError(line: Self.line(of: error), path: "", problem: "not valid YAML: \(Self.problem(of: error))")
        } catch {
            throw PolicyError(line: nil, path: "", problem: "not valid YAML: \(error)")
        }
        var reader = PolicyReader(root: root)
        self = try reader.read()
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        case .duplicatedKeysInMapping(_, let context):
            return context.mark.line
        default:
            return nil
        }
    }

    /// What is wrong, without the whole document Yams puts in its context for duplicated keys.
    private static func problem(of error: YamlError) -> String {
        guard case .duplicatedKeysInMapping(let duplicates, _) = error else { return "\(error)" }
        return "a key given twice in one mapping: " + duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
    }
}

/// Walks the composed YAML, converting and checking each value where it stands.
private struct PolicyReader {
    let root: Node

    func fail(_ node: Node?, _ path: String, _ problem: String) -> PolicyError {
        PolicyError(line: node?.mark?.line, path: path, problem: problem)
    }

    mutating func read() throws(PolicyError) -> ScreeningPolicy {
        guard let top = root.mapping else { throw fail(root, "", "the policy must be a mapping of keys") }
        let known: Set<String> = [
            "version", "weights", "verdict", "conductPenalty", "proportionality", "prolongedContact",
            "repeatedContact", "sustainedAbuse", "relatedDemands", "pricelessDemands", "warrantedDemands", "answerableDemands",
            "lexicon", "exceptions", "reportingCues", "writtenStatementTerms", "elementCues", "recurringIssue", "riskFlags", "personalData",
            "concepts", "patterns", "agentWarnings", "threatModel",
            "scores", "signalGroups", "demandSignals", "rationales",
        ]
        for (key, _) in top {
            guard let name = key.string, known.contains(name) else {
                throw fail(key, key.string ?? "", "unknown key; expected one of \(known.sorted().joined(separator: ", "))")
            }
        }
        let version = try string(top["version"], "version")
        guard !version.isEmpty else { throw fail(top["version"], "version", "must not be empty") }

        var weights: [Criterion: Double] = [:]
        let weightNames: [(String, Criterion)] = [
            ("responsibility", .responsibility), ("causation", .causation), ("conduct", .conduct),
            ("proportionality", .proportionality), ("relevance", .relevance),
        ]
        let weightsNode = try mapping(top["weights"], "weights")
        for (name, criterion) in weightNames {
            let value = try number(weightsNode[name], "weights.\(name)", in: 0...1)
            weights[criterion] = value
        }
        guard weights.values.reduce(0, +) > 0 else {
            throw fail(top["weights"], "weights", "at least one weight must be above 0")
        }

        let verdictNode = try mapping(top["verdict"], "verdict")
        let legitimateAtLeast = try number(verdictNode["legitimateAtLeast"], "verdict.legitimateAtLeast", in: 0...1)
        let unjustBelow = try number(verdictNode["unjustBelow"], "verdict.unjustBelow", in: 0...1)
        let conductUnjustAtMost = try number(
            verdictNode["conductUnjustAtMost"], "verdict.conductUnjustAtMost", in: 0...1)
        guard unjustBelow < legitimateAtLeast else {
            throw fail(verdictNode["unjustBelow"], "verdict.unjustBelow", "must be below verdict.legitimateAtLeast")
        }

        var conductPenalty: [Severity: Double] = [:]
        let penaltyNode = try mapping(top["conductPenalty"], "conductPenalty")
        for severity in [Severity.low, .medium, .high, .critical] {
            conductPenalty[severity] = try number(
                penaltyNode[severity.protoName], "conductPenalty.\(severity.protoName)", in: 0...1)
        }

        let proportionality = try mapping(top["proportionality"], "proportionality")
        let proportionateRatio = try number(
            proportionality["proportionateRatio"], "proportionality.proportionateRatio", in: 1...1000)
        let excessiveRatio = try number(
            proportionality["excessiveRatio"], "proportionality.excessiveRatio", in: proportionateRatio...1000)
        let grossRatio = try number(
            proportionality["grossRatio"], "proportionality.grossRatio", in: excessiveRatio...100000)

        var prolonged: [(seconds: UInt32, severity: Severity)] = []
        let prolongedNode = try mapping(top["prolongedContact"], "prolongedContact")
        for (key, value) in prolongedNode {
            let path = "prolongedContact.\(key.string ?? "?")"
            guard let name = key.string, let severity = Severity(protoName: name), severity != .unspecified else {
                throw fail(key, path, "must be a severity: SEVERITY_LOW, SEVERITY_MEDIUM, SEVERITY_HIGH or SEVERITY_CRITICAL")
            }
            prolonged.append((UInt32(try number(value, path, in: 1...86400 * 7)), severity))
        }
        prolonged.sort { $0.seconds < $1.seconds }

        let repeated = try mapping(top["repeatedContact"], "repeatedContact")
        let repeated24h = UInt32(
            try number(repeated["contacts24h"], "repeatedContact.contacts24h", in: 2...Double(HistoryWindows.contactCountLimit / 2)))
        let repeated30d = UInt32(
            try number(repeated["contacts30d"], "repeatedContact.contacts30d", in: 2...Double(HistoryWindows.contactCountLimit)))

        let abuse = try mapping(top["sustainedAbuse"], "sustainedAbuse")
        let abuseHits = Int(try number(abuse["hits"], "sustainedAbuse.hits", in: 1...1000))
        let abuseUtterances = Int(try number(abuse["utterances"], "sustainedAbuse.utterances", in: 1...1000))

        var related: [IncidentCategory: Set<DemandKind>] = [:]
        for (key, value) in try mapping(top["relatedDemands"], "relatedDemands") {
            let path = "relatedDemands.\(key.string ?? "?")"
            guard let name = key.string, let category = IncidentCategory(protoName: name) else {
                throw fail(key, path, "unknown incident category; expected one of \(IncidentCategory.protoNames.joined(separator: ", "))")
            }
            related[category] = Set(try demandKinds(value, path))
        }
        let priceless = Set(try demandKinds(top["pricelessDemands"], "pricelessDemands"))
        var warranted: [DemandKind: Set<IncidentCategory>] = [:]
        if let node = top["warrantedDemands"] {
            for (key, value) in try mapping(node, "warrantedDemands") {
                let path = "warrantedDemands.\(key.string ?? "?")"
                guard let name = key.string, let kind = DemandKind(protoName: name), priceless.contains(kind) else {
                    throw fail(key, path, "not one of pricelessDemands (\(priceless.map(\.protoName).sorted().joined(separator: ", ")))")
                }
                warranted[kind] = Set(try protoNamed(value, path, IncidentCategory.self, "incident category"))
            }
        }
        var answerable: Set<DemandKind> = []
        if let node = top["answerableDemands"] { answerable = Set(try demandKinds(node, "answerableDemands")) }

        var lexicon: [ScreeningPolicy.LexiconEntry] = []
        let lexiconNode = try sequence(top["lexicon"], "lexicon")
        for (index, entryNode) in lexiconNode.enumerated() {
            let path = "lexicon[\(index)]"
            let entry = try mapping(entryNode, path)
            let signalName = try string(entry["signal"], "\(path).signal")
            guard let signal = SignalKind(protoName: signalName), signal != .signalUnspecified else {
                throw fail(
                    entry["signal"], "\(path).signal",
                    "unknown signal '\(signalName)'; expected one of \(SignalKind.protoNames.dropFirst().joined(separator: ", "))")
            }
            let severityName = try string(entry["severity"], "\(path).severity")
            guard let severity = Severity(protoName: severityName), severity != .unspecified else {
                throw fail(entry["severity"], "\(path).severity", "unknown severity '\(severityName)'")
            }
            for term in try strings(entry["terms"], "\(path).terms") {
                lexicon.append(.init(term: term, signal: signal, severity: severity))
            }
        }

        var elementCues: [Element: [String]] = [:]
        for (key, value) in try mapping(top["elementCues"], "elementCues") {
            let path = "elementCues.\(key.string ?? "?")"
            guard let name = key.string, let element = Element(protoName: name),
                element != .unspecified, element != .fact
            else {
                throw fail(key, path, "must be ELEMENT_DEMAND, ELEMENT_DISSATISFACTION or ELEMENT_OPINION (facts have no cues)")
            }
            elementCues[element] = try strings(value, path)
        }

        var policy = ScreeningPolicy(
            weights: weights,
            version: version,
            legitimateAtLeast: legitimateAtLeast,
            unjustBelow: unjustBelow,
            conductUnjustAtMost: conductUnjustAtMost,
            conductPenalty: conductPenalty,
            proportionateRatio: proportionateRatio,
            excessiveRatio: excessiveRatio,
            grossRatio: grossRatio,
            prolongedContactSeconds: prolonged,
            sustainedAbuseHits: abuseHits,
            sustainedAbuseUtterances: abuseUtterances,
            repeatedContacts24h: repeated24h,
            repeatedContacts30d: repeated30d,
            relatedDemands: related,
            pricelessDemands: priceless,
            warrantedDemands: warranted,
            answerableDemands: answerable,
            lexicon: lexicon,
            exceptions: try strings(top["exceptions"], "exceptions"),
            reportingCues: try strings(top["reportingCues"], "reportingCues"),
            writtenStatementTerms: try strings(top["writtenStatementTerms"], "writtenStatementTerms"),
            elementCues: elementCues,
            rules: try readJudgmentRules(top))
        try onlyKeys(repeated, ["contacts24h", "contacts30d", "escalatingMoneyRatio"], "repeatedContact")
        if let ratio = repeated["escalatingMoneyRatio"] {
            // Above 1: the same amount asked again is a repeat, not an escalation.
            policy.escalatingMoneyRatio = try number(ratio, "repeatedContact.escalatingMoneyRatio", in: 1.01...1000)
        }
        try readHistorySettings(top, into: &policy)
        try readTokenPatterns(top, into: &policy)
        try readThreatModel(top, into: &policy)
        return policy
    }

    /// `threatModel` (optional): the probabilities from which the threat model raises a signal
    /// (`high` optional: without it the model alone never raises SEVERITY_HIGH; `highOwnWords`, optional,
    /// between them, where the caller reports no one's words), from which it
    /// confirms a pattern marked `confirmedByModel` (`confirm`, required by such a pattern), and
    /// below which it doubts a threat the patterns raised (`doubt`, optional) and coercion they
    /// raised (`doubtCoercion`, optional), and from which a threat the agent warned about is raised
    /// (`warned`, optional, at most `medium`).
    func readThreatModel(_ top: Node.Mapping, into policy: inout ScreeningPolicy) throws(PolicyError) {
        if let node = top["threatModel"] {
            let section = try mapping(node, "threatModel")
            try onlyKeys(section, ["medium", "high", "highOwnWords", "confirm", "doubt", "doubtCoercion", "warned"], "threatModel")
            let medium = try number(section["medium"], "threatModel.medium", in: 0.5...1)
            let high = try section["high"].map { node throws(PolicyError) in try number(node, "threatModel.high", in: medium...1) }
            let highOwnWords = try section["highOwnWords"].map { node throws(PolicyError) in
                guard let high else { throw fail(node, "threatModel.highOwnWords", "needs threatModel.high, which it lowers") }
                return try number(node, "threatModel.highOwnWords", in: medium...high)
            }
            let confirm = try section["confirm"].map { node throws(PolicyError) in try number(node, "threatModel.confirm", in: 0...1) }
            let doubt = try section["doubt"].map { node throws(PolicyError) in
                let doubt = try number(node, "threatModel.doubt", in: 0...1)
                guard doubt <= medium, doubt <= confirm ?? 1 else {
                    let confirmed = confirm.map { "\($0)" } ?? "unset"
                    throw fail(
                        node, "threatModel.doubt",
                        "\(doubt) is above medium (\(medium)) or confirm (\(confirmed)): the model would doubt a threat it reads")
                }
                return doubt
            }
            let doubtCoercion = try section["doubtCoercion"].map { node throws(PolicyError) in
                try number(node, "threatModel.doubtCoercion", in: 0...0.5)
            }
            let warned = try section["warned"].map { node throws(PolicyError) in
                try number(node, "threatModel.warned", in: 0.05...medium)
            }
            policy.threatModel = ThreatModelThresholds(
                medium: medium, high: high, highOwnWords: highOwnWords, confirm: confirm, doubt: doubt, doubtCoercion: doubtCoercion,
                warned: warned)
        }
        // A pattern marked confirmedByModel, and a cue (hint), count only as the model confirms them.
        for (index, pattern) in policy.tokenPatterns.enumerated() where pattern.confirmedByModel || pattern.hint != nil {
            let name = pattern.hint == nil ? "confirmedByModel" : "hint"
            let key = top["patterns"]?.sequence?[index].mapping?[name]
            let path = "patterns[\(index)] '\(pattern.id)'.\(name)"
            guard pattern.signal == .signalThreatViolence || pattern.signal == .signalThreatExposure else {
                throw fail(key, path, "the threat model confirms threats only (SIGNAL_THREAT_VIOLENCE, SIGNAL_THREAT_EXPOSURE)")
            }
            guard policy.threatModel?.confirm != nil else {
                throw fail(key, path, "needs the policy's threatModel.confirm, the probability from which the model confirms it")
            }
        }
    }

    /// `scores`, `signalGroups`, `demandSignals` and `rationales`: every value the judgment needs
    /// must be there (a missing one is named).
    func readJudgmentRules(_ top: Node.Mapping) throws(PolicyError) -> JudgmentRules {
        let scores = try mapping(top["scores"], "scores")
        try onlyKeys(scores, ["responsibility", "causation", "proportionality", "relevance"], "scores")
        func enumScores<E: ProtoNamedEnum & Hashable>(_ name: String, _ cases: [E]) throws(PolicyError) -> [E: Double] {
            let node = try mapping(scores[name], "scores.\(name)")
            var values: [E: Double] = [:]
            for value in cases {
                values[value] = try number(node[value.protoName], "scores.\(name).\(value.protoName)", in: 0...1)
            }
            for (key, _) in node where !cases.contains(where: { $0.protoName == key.string }) {
                throw fail(
                    key, "scores.\(name)", "unknown key '\(key.string ?? "")'; expected \(cases.map(\.protoName).joined(separator: ", "))")
            }
            return values
        }
        func namedScores<E: RawRepresentable<String> & CaseIterable & Hashable>(_ name: String, _: E.Type) throws(PolicyError) -> [E:
            Double]
        {
            let node = try mapping(scores[name], "scores.\(name)")
            var values: [E: Double] = [:]
            for value in E.allCases {
                values[value] = try number(node[value.rawValue], "scores.\(name).\(value.rawValue)", in: 0...1)
            }
            for (key, _) in node where E(rawValue: key.string ?? "") == nil {
                throw fail(
                    key, "scores.\(name)",
                    "unknown key '\(key.string ?? "")'; expected \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return values
        }
        let groups = try mapping(top["signalGroups"], "signalGroups")
        try onlyKeys(groups, ["conduct", "pressure", "inDoubt", "notAFollowUp", "leverage"], "signalGroups")
        func signals(_ name: String) throws(PolicyError) -> [SignalKind] {
            var kinds: [SignalKind] = []
            for (index, item) in try sequence(groups[name], "signalGroups.\(name)").enumerated() {
                let text = try string(item, "signalGroups.\(name)[\(index)]")
                guard let kind = SignalKind(protoName: text), kind != .signalUnspecified else {
                    throw fail(item, "signalGroups.\(name)[\(index)]", "unknown signal kind '\(text)'")
                }
                kinds.append(kind)
            }
            return kinds
        }
        var demandSignals: [DemandKind: (signal: SignalKind, severity: Severity)] = [:]
        for (key, value) in try mapping(top["demandSignals"], "demandSignals") {
            let path = "demandSignals.\(key.string ?? "?")"
            guard let name = key.string, let kind = DemandKind(protoName: name), kind != .demandUnspecified else {
                throw fail(key, path, "must be a demand kind such as DEMAND_KNEELING_APOLOGY")
            }
            let entry = try mapping(value, path)
            let signalName = try string(entry["signal"], "\(path).signal")
            guard let signal = SignalKind(protoName: signalName), signal != .signalUnspecified else {
                throw fail(entry["signal"], "\(path).signal", "unknown signal kind '\(signalName)'")
            }
            let severityName = try string(entry["severity"], "\(path).severity")
            guard let severity = Severity(protoName: severityName), severity != .unspecified else {
                throw fail(
                    entry["severity"], "\(path).severity", "must be SEVERITY_LOW, SEVERITY_MEDIUM, SEVERITY_HIGH or SEVERITY_CRITICAL")
            }
            demandSignals[kind] = (signal, severity)
        }
        let rationalesNode = try mapping(top["rationales"], "rationales")
        try onlyKeys(rationalesNode, RationaleCatalog.languages, "rationales")
        var texts: [String: [RationaleCatalog.Key: String]] = [:]
        for language in RationaleCatalog.languages {
            let node = try mapping(rationalesNode[language], "rationales.\(language)")
            var catalog: [RationaleCatalog.Key: String] = [:]
            for key in RationaleCatalog.Key.allCases {
                catalog[key] = try string(node[key.rawValue], "rationales.\(language).\(key.rawValue)")
            }
            for (key, _) in node where RationaleCatalog.Key(rawValue: key.string ?? "") == nil {
                throw fail(key, "rationales.\(language)", "unknown rationale '\(key.string ?? "")'")
            }
            texts[language] = catalog
        }
        return JudgmentRules(
            responsibilityScores: try enumScores("responsibility", [Fault.confirmed, .partial, .none, .unknown]),
            causationScores: try enumScores("causation", [Causation.confirmed, .plausible, .none, .unknown]),
            proportionalityScores: try namedScores("proportionality", JudgmentRules.ProportionalityFinding.self),
            relevanceScores: try namedScores("relevance", JudgmentRules.RelevanceFinding.self),
            conductSignals: try signals("conduct"),
            pressureSignals: Set(try signals("pressure")),
            notAFollowUpSignals: groups["notAFollowUp"] == nil
                ? Set(try signals("pressure") + [.signalExcessiveDemand]) : Set(try signals("notAFollowUp")),
            leverageSignals: groups["leverage"] == nil ? [] : Set(try signals("leverage")),
            inDoubtSignals: Set(try signals("inDoubt")),
            demandSignals: demandSignals,
            rationales: RationaleCatalog(texts: texts))
    }

    /// `concepts` (name → words) and `patterns` (token rules); every concept a pattern names
    /// must be defined, and every problem names the pattern by its id.
    func readTokenPatterns(_ top: Node.Mapping, into policy: inout ScreeningPolicy) throws(PolicyError) {
        var concepts: [String: [String]] = [:]
        if let node = top["concepts"] {
            for (key, value) in try mapping(node, "concepts") {
                guard let name = key.string, !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw fail(key, "concepts", "a concept name is letters, digits and _")
                }
                concepts[name] = try strings(value, "concepts.\(name)", symbolsAllowed: true)
            }
        }
        var rules: [TokenPatternRule] = []
        var ids: Set<String> = []
        for (index, node) in try (top["patterns"].map { node throws(PolicyError) in try sequence(node, "patterns") } ?? []).enumerated() {
            let (entry, id, path) = try patternEntry(node, "patterns", index, ids: &ids)
            let keys = ["id", "signal", "severity", "tokens", "then", "cancels", "reach", "until", "confirmedByModel", "hint"]
            try onlyKeys(entry, keys, path)
            let cancels = try entry["cancels"].map { node throws(PolicyError) in try boolean(node, "\(path).cancels") } ?? false
            let confirmedByModel =
                try entry["confirmedByModel"].map { node throws(PolicyError) in try boolean(node, "\(path).confirmedByModel") } ?? false
            if cancels && confirmedByModel {
                throw fail(entry["confirmedByModel"], "\(path).confirmedByModel", "a cancelling pattern raises nothing to confirm")
            }
            let hint = try entry["hint"].map { node throws(PolicyError) in
                let group = try string(node, "\(path).hint")
                guard !group.isEmpty, group.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw fail(node, "\(path).hint", "a hint group is a name of letters, digits, _ and -")
                }
                guard !cancels else { throw fail(node, "\(path).hint", "a cancelling pattern is no cue") }
                guard !confirmedByModel else {
                    throw fail(node, "\(path).hint", "a cue is always confirmed by the model: leave out confirmedByModel")
                }
                return group
            }
            var reach = TokenPatternRule.Reach.match
            if let node = entry["reach"] {
                let name = try string(node, "\(path).reach")
                guard cancels else { throw fail(node, "\(path).reach", "only a cancelling pattern has a reach") }
                guard let value = TokenPatternRule.Reach(rawValue: name) else {
                    let names = TokenPatternRule.Reach.allCases.map(\.rawValue).joined(separator: ", ")
                    throw fail(node, "\(path).reach", "unknown reach '\(name)'; expected \(names)")
                }
                reach = value
            }
            let until = try patternSyntax(entry, "until", path, concepts: concepts)
            if until != nil && reach == .match {
                throw fail(entry["until"], "\(path).until", "only a pattern with a reach has an until")
            }
            var signal = SignalKind.signalUnspecified
            var severity = Severity.unspecified
            // A cancelling pattern may name the one signal it cancels; without one it cancels all.
            if !cancels || entry["signal"] != nil {
                let signalName = try string(entry["signal"], "\(path).signal")
                guard let kind = SignalKind(protoName: signalName), kind != .signalUnspecified else {
                    throw fail(entry["signal"], "\(path).signal", "unknown signal '\(signalName)'")
                }
                signal = kind
            }
            if !cancels {
                let severityName = try string(entry["severity"], "\(path).severity")
                guard let level = Severity(protoName: severityName), level != .unspecified else {
                    throw fail(entry["severity"], "\(path).severity", "unknown severity '\(severityName)'")
                }
                severity = level
            } else if entry["severity"] != nil {
                throw fail(node, path, "a cancelling pattern has no severity")
            }
            let tokens = try patternTokens(entry, node, path, concepts: concepts)
            rules.append(
                TokenPatternRule(
                    id: id, signal: signal, severity: severity, tokens: tokens,
                    then: try patternSyntax(entry, "then", path, concepts: concepts), cancels: cancels,
                    reach: reach, until: until, confirmedByModel: confirmedByModel, hint: hint))
        }
        var warnings: [AgentWarning] = []
        let warningNodes = try top["agentWarnings"].map { node throws(PolicyError) in try sequence(node, "agentWarnings") } ?? []
        for (index, node) in warningNodes.enumerated() {
            let (entry, id, path) = try patternEntry(node, "agentWarnings", index, ids: &ids)
            try onlyKeys(entry, ["id", "tokens"], path)
            warnings.append(AgentWarning(id: id, tokens: try patternTokens(entry, node, path, concepts: concepts)))
        }
        policy.concepts = concepts
        policy.tokenPatterns = rules
        policy.agentWarnings = warnings
    }

    /// Entry `index` of a list of token patterns (`patterns`, `agentWarnings`): its mapping, its id
    /// (unique among both lists, recorded in `ids`) and the path errors name it by.
    private func patternEntry(
        _ node: Node, _ list: String, _ index: Int, ids: inout Set<String>
    ) throws(PolicyError) -> (entry: Node.Mapping, id: String, path: String) {
        let entry = try mapping(node, "\(list)[\(index)]")
        let id = try string(entry["id"], "\(list)[\(index)].id")
        let path = "\(list)[\(index)] '\(id)'"
        guard ids.insert(id).inserted else { throw fail(entry["id"], path, "another pattern has this id") }
        return (entry, id, path)
    }

    /// A pattern's required `tokens` part, parsed and checked against the concepts.
    private func patternTokens(
        _ entry: Node.Mapping, _ node: Node, _ path: String, concepts: [String: [String]]
    ) throws(PolicyError) -> TokenPatternSyntax {
        guard let tokens = try patternSyntax(entry, "tokens", path, concepts: concepts) else {
            throw fail(node, "\(path).tokens", "missing")
        }
        return tokens
    }

    /// A pattern's `key` part (`tokens`, `then`, `until`), parsed and checked against the concepts;
    /// nil when the entry has none.
    private func patternSyntax(
        _ entry: Node.Mapping, _ key: String, _ path: String, concepts: [String: [String]]
    ) throws(PolicyError) -> TokenPatternSyntax? {
        guard let node = entry[key] else { return nil }
        let text = try string(node, "\(path).\(key)")
        let parsed: TokenPatternSyntax
        do {
            parsed = try TokenPatternSyntax(text)
        } catch {
            throw fail(node, "\(path).\(key)", error.description)
        }
        for name in parsed.conceptNames where concepts[name] == nil {
            throw fail(node, "\(path).\(key)", "unknown concept '@\(name)'")
        }
        for item in parsed.items {
            guard case .word(let word) = item, NormalizedText.fold(term: word).isEmpty else { continue }
            throw fail(node, "\(path).\(key)", "'\(word)' has no letter or digit")
        }
        return parsed
    }

    /// The optional sections on history and personal data; a policy without them keeps the
    /// defaults of `ScreeningPolicy`.
    func readHistorySettings(_ top: Node.Mapping, into policy: inout ScreeningPolicy) throws(PolicyError) {
        if let node = top["recurringIssue"] {
            let section = try mapping(node, "recurringIssue")
            policy.recurringIssueClaimants = UInt32(try number(section["claimants"], "recurringIssue.claimants", in: 2...10000))
            policy.recurringIssueWindowDays = UInt32(try number(section["windowDays"], "recurringIssue.windowDays", in: 1...3650))
            policy.recurringIssueSimilarity = try number(section["similarity"], "recurringIssue.similarity", in: 0.05...1)
        }
        if let node = top["riskFlags"] {
            let section = try mapping(node, "riskFlags")
            policy.riskFlagActiveDays = UInt32(try number(section["activeDays"], "riskFlags.activeDays", in: 1...36500))
        }
        if let node = top["personalData"] {
            let section = try mapping(node, "personalData")
            policy.maskPersonalData = try boolean(section["maskInStorage"], "personalData.maskInStorage")
            policy.transcriptRetentionDays = UInt32(
                try number(section["transcriptRetentionDays"], "personalData.transcriptRetentionDays", in: 1...36500))
        }
    }

    /// Refuses a key of `mapping` that is not one of `known`, naming it.
    func onlyKeys(_ mapping: Node.Mapping, _ known: [String], _ path: String) throws(PolicyError) {
        for (key, _) in mapping where !known.contains(key.string ?? "") {
            throw fail(key, path, "unknown key '\(key.string ?? "")'; expected \(known.joined(separator: ", "))")
        }
    }

    func boolean(_ node: Node?, _ path: String) throws(PolicyError) -> Bool {
        guard let node else { throw fail(nil, path, "missing") }
        guard let value = node.scalar.flatMap({ Bool.construct(from: $0) }) else {
            throw fail(node, path, "must be true or false")
        }
        return value
    }

    func mapping(_ node: Node?, _ path: String) throws(PolicyError) -> Node.Mapping {
        guard let node else { throw fail(nil, path, "missing") }
        guard let mapping = node.mapping else { throw fail(node, path, "must be a mapping") }
        return mapping
    }

    func sequence(_ node: Node?, _ path: String) throws(PolicyError) -> Node.Sequence {
        guard let node else { throw fail(nil, path, "missing") }
        guard let sequence = node.sequence else { throw fail(node, path, "must be a list") }
        return sequence
    }

    func string(_ node: Node?, _ path: String) throws(PolicyError) -> String {
        guard let node else { throw fail(nil, path, "missing") }
        guard let scalar = node.scalar else { throw fail(node, path, "must be a single value") }
        return scalar.string
    }

    /// A list of terms; each must have a letter or digit, or (`symbolsAllowed`, for concept words
    /// that the analyzer reads as symbols: 〇ね) at least something besides spaces.
    func strings(_ node: Node?, _ path: String, symbolsAllowed: Bool = false) throws(PolicyError) -> [String] {
        var values: [String] = []
        for (index, item) in try sequence(node, path).enumerated() {
            let value = try string(item, "\(path)[\(index)]")
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed != "=", symbolsAllowed || !NormalizedText.fold(term: value).isEmpty else {
                throw fail(item, "\(path)[\(index)]", "a term must have at least one letter or digit")
            }
            values.append(value)
        }
        return values
    }

    func number(_ node: Node?, _ path: String, in range: ClosedRange<Double>) throws(PolicyError) -> Double {
        let text = try string(node, path)
        guard let value = Double(text), value.isFinite else {
            throw fail(node, path, "must be a number, got '\(text)'")
        }
        guard range.contains(value) else {
            throw fail(node, path, "must be between \(range.lowerBound) and \(range.upperBound), got \(text)")
        }
        return value
    }

    func demandKinds(_ node: Node?, _ path: String) throws(PolicyError) -> [DemandKind] {
        try protoNamed(node, path, DemandKind.self, "demand kind")
    }

    /// A sequence of .proto names, each a value of `type` (`what` names it in an error).
    func protoNamed<Value: ProtoNamedEnum>(
        _ node: Node?, _ path: String, _ type: Value.Type, _ what: String
    ) throws(PolicyError) -> [Value] {
        var values: [Value] = []
        for (index, item) in try sequence(node, path).enumerated() {
            let name = try string(item, "\(path)[\(index)]")
            guard let value = Value(protoName: name) else {
                throw fail(item, "\(path)[\(index)]", "unknown \(what) '\(name)'")
            }
            values.append(value)
        }
        return values
    }
}
