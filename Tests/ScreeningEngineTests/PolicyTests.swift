import DemandScreenAPI
import Foundation
import ScreeningEngine
import SwiftProtobuf
import Testing

@Suite struct PolicyTests {
    @Test func builtInPolicyLoads() {
        let policy = ScreeningPolicy.builtIn()
        #expect(!policy.version.isEmpty)
        #expect(policy.lexicon.count > 100)
        #expect(policy.weights.count == 5)
    }

    @Test func aBrokenPolicyNamesTheLine() throws {
        var lines = ScreeningPolicy.builtInYAML().components(separatedBy: "\n")
        let index = try #require(lines.firstIndex { $0.hasPrefix("  - signal: SIGNAL_COERCION") })
        lines[index] = "  - signal: SIGNAL_NOT_A_SIGNAL"
        do {
            _ = try ScreeningPolicy(yaml: lines.joined(separator: "\n"))
            Issue.record("a policy with an unknown signal was accepted")
        } catch {
            #expect(error.line == index + 1)
            #expect(error.description.contains("SIGNAL_NOT_A_SIGNAL"))
        }
    }

    /// A record of a partly confirmed fault with an English rationale to compare.
    static func partialFaultRecord() -> DemandRecord {
        var record = DemandRecord()
        record.recordID = "rules-1"
        record.claimantID = "c-rules"
        record.language = "en"
        var utterance = Utterance()
        utterance.speaker = .customer
        utterance.text = "My order came late and I want the delivery fee back."
        record.utterances = [utterance]
        record.incident.category = .incidentDelivery
        record.assessment.companyFault = .partial
        record.assessment.causation = .confirmed
        var demand = Demand()
        demand.kind = .demandStaffDiscipline
        record.demands = [demand]
        return record
    }

    @Test func scoresSignalGroupsDemandSignalsAndRationalesAreThePolicys() throws {
        let builtIn = ScreeningEngine(policy: .builtIn()).screen(Self.partialFaultRecord())
        let responsibility = try #require(builtIn.criteria.first { $0.criterion == .responsibility })
        #expect(responsibility.score == 0.7)
        #expect(responsibility.rationale == "The company is partly at fault.")
        #expect(!builtIn.signals.contains { $0.kind == .signalCoercion })

        let yaml = ScreeningPolicy.builtInYAML()
            .replacingOccurrences(of: "FAULT_PARTIAL: 0.7,", with: "FAULT_PARTIAL: 0.4,")
            .replacingOccurrences(
                of: "    responsibility.FAULT_PARTIAL: The company is partly at fault.",
                with: "    responsibility.FAULT_PARTIAL: \"Partly our fault (site wording).\""
            )
            .replacingOccurrences(
                of: "  DEMAND_KNEELING_APOLOGY: {signal: SIGNAL_COERCION, severity: SEVERITY_HIGH}",
                with:
                    "  DEMAND_KNEELING_APOLOGY: {signal: SIGNAL_COERCION, severity: SEVERITY_HIGH}\n  DEMAND_STAFF_DISCIPLINE: {signal: SIGNAL_COERCION, severity: SEVERITY_MEDIUM}"
            )
        let site = ScreeningEngine(policy: try ScreeningPolicy(yaml: yaml)).screen(Self.partialFaultRecord())
        let changed = try #require(site.criteria.first { $0.criterion == .responsibility })
        #expect(changed.score == 0.4)
        #expect(changed.rationale == "Partly our fault (site wording).")
        #expect(site.signals.first { $0.kind == .signalCoercion }?.severity == .medium)
    }

    /// The built-in policy's threatModel lines, as written.
    static let builtInThreatModel: (medium: String, high: String, confirm: String, doubt: String) = {
        let section = ScreeningPolicy.builtIn().threatModel!
        func line(_ key: String, _ value: Double?) -> String { "  \(key): \(value.map { String(format: "%.2f", $0) } ?? "")\n" }
        return (
            line("medium", section.medium), "  high: \(section.high!)\n", line("confirm", section.confirm), line("doubt", section.doubt)
        )
    }()

    @Test(arguments: [
        (
            "    conduct.clean: No threats, coercion or abuse; anger and strong words alone are not illegitimate.\n", "",
            "rationales.en.conduct.clean"
        ),
        ("    gross: 0 ", "    grosss: 0 ", "scores.proportionality"),
        ("  inDoubt: [", "  inDout: [", "unknown key 'inDout'"),
        ("  escalatingMoneyRatio: 1.5", "  escalatingMoneyRation: 1.5", "unknown key 'escalatingMoneyRation'"),
        ("  escalatingMoneyRatio: 1.5", "  escalatingMoneyRatio: 1", "repeatedContact.escalatingMoneyRatio"),
        ("threatModel:\n", "threatModel:\n  hihg: 0.9\n", "unknown key 'hihg'"),
        (builtInThreatModel.medium, "  medium: 0.4\n", "threatModel.medium"),
        (builtInThreatModel.high, "  high: 0.6\n", "threatModel.high"),
        (builtInThreatModel.high, builtInThreatModel.high + "  highOwnWords: 0.999\n", "threatModel.highOwnWords"),
        (builtInThreatModel.high, "  highOwnWords: 0.9\n", "needs threatModel.high"),
        (builtInThreatModel.doubt, "  doubt: 0.99\n", "is above medium ("),
        (builtInThreatModel.confirm, "  confirm: 0.01\n", "is above medium ("),
        (builtInThreatModel.confirm, "", "'.confirmedByModel): needs the policy's threatModel.confirm"),
        (
            "{id: hint.en.dark-alone, hint: menace,", "{id: hint.en.dark-alone, hint: menace, confirmedByModel: true,",
            "'hint.en.dark-alone'.hint): a cue is always confirmed by the model"
        ),
        ("{id: hint.en.dark-alone, hint: menace,", "{id: hint.en.dark-alone, hint: \"dark menace\",", "a hint group is a name"),
        (
            "{id: abuse.en.smartass,", "{id: abuse.en.smartass, hint: insult,",
            "'abuse.en.smartass'.hint): the threat model confirms threats only"
        ),
        (
            "{id: threat.ja.not-a-threat.pest, cancels: true,", "{id: threat.ja.not-a-threat.pest, cancels: true, hint: menace,",
            "a cancelling pattern is no cue"
        ),
        (
            "{id: threat.ja.not-a-threat.pest, cancels: true,", "{id: threat.ja.not-a-threat.pest, cancels: true, confirmedByModel: true,",
            "a cancelling pattern raises nothing to confirm"
        ),
        (
            "{id: coercion.ja.kneel,", "{id: coercion.ja.kneel, reach: to-sentence-end,",
            "'coercion.ja.kneel'.reach): only a cancelling pattern has a reach"
        ),
        (
            "{id: threat.ja.not-a-threat.pest, cancels: true,", "{id: threat.ja.not-a-threat.pest, cancels: true, until: \"から\",",
            "'threat.ja.not-a-threat.pest'.until): only a pattern with a reach has an until"
        ),
        (
            "{id: reported.en.someone-said, cancels: true, reach: to-sentence-end,",
            "{id: reported.en.someone-said, cancels: true, reach: sentence,",
            "'reported.en.someone-said'.reach): unknown reach 'sentence'; expected match, to-sentence-end, from-sentence-start"
        ),
        (
            "{id: coercion.ja.kneel,", "{id: coercion.ja.kneel, confirmedByModel: true,",
            "'coercion.ja.kneel'.confirmedByModel): the threat model confirms threats only"
        ),
        (
            "  DEMAND_STAFF_DISCIPLINE: [INCIDENT_STAFF_CONDUCT]\n", "  DEMAND_REFUND: [INCIDENT_STAFF_CONDUCT]\n",
            "(warrantedDemands.DEMAND_REFUND): not one of pricelessDemands"
        ),
        (
            "  DEMAND_STAFF_DISCIPLINE: [INCIDENT_STAFF_CONDUCT]\n", "  DEMAND_STAFF_DISCIPLINE: [INCIDENT_RUDENESS]\n",
            "unknown incident category 'INCIDENT_RUDENESS'"
        ),
        (
            "answerableDemands: [DEMAND_EXPLANATION, DEMAND_IMPROVEMENT]", "answerableDemands: [DEMAND_EXPLANATION, DEMAND_ANSWER]",
            "DEMAND_ANSWER"
        ),
        ("  doubtCoercion: 0.01\n", "  doubtCoercion: 0.01\n  warned: 0.9\n", "threatModel.warned"),
        (
            "  leverage: [SIGNAL_THREAT_VIOLENCE, SIGNAL_THREAT_EXPOSURE]", "  leverage: [SIGNAL_MENACE]",
            "unknown signal kind 'SIGNAL_MENACE'"
        ),
    ])
    func aMissingMisspeltOrOutOfRangeJudgmentKeyIsRefusedNamingIt(original: String, replacement: String, problem: String) {
        let yaml = ScreeningPolicy.builtInYAML()
        #expect(yaml.contains(original), "the built-in policy no longer has \(original)")
        do {
            _ = try ScreeningPolicy(yaml: yaml.replacingOccurrences(of: original, with: replacement))
            Issue.record("accepted with \(original) as \(replacement)")
        } catch {
            #expect(error.description.contains(problem), "\(error)")
        }
    }

    @Test func theJudgmentsOptionalKeysHaveTheirDefaults() throws {
        let yaml = ScreeningPolicy.builtInYAML()
        // Without the optional keys: a ratio of 1.5, and the pressure signals and an excessive
        // demand make a repeated call no follow-up.
        let older = try ScreeningPolicy(
            yaml: yaml.replacingOccurrences(of: "  escalatingMoneyRatio: 1.5\n", with: "")
                .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("  notAFollowUp:") }
                .joined(separator: "\n"))
        #expect(older.escalatingMoneyRatio == 1.5)
        #expect(older.rules.notAFollowUpSignals == older.rules.pressureSignals.union([.signalExcessiveDemand]))
    }

    @Test(arguments: [
        ("tokens: \"@harm_ja|@harm_intent_only_ja ~3 @intent_ja\"", "tokens: \"@harm_jaa ~3 @intent_ja\"", "unknown concept '@harm_jaa'"),
        ("tokens: \"@harm_ja|@harm_intent_only_ja ~3 @intent_ja\"", "tokens: \"@harm_ja ~99 @intent_ja\"", "a gap is ~N or ~~N"),
        ("tokens: \"@harm_ja|@harm_intent_only_ja ~3 @intent_ja\"", "tokens: \"~2 @harm_ja\"", "cannot start with a gap"),
        ("tokens: \"@harm_ja|@harm_intent_only_ja ~3 @intent_ja\"", "tokens: \"@harm_ja ~3! @intent_ja\"", "then optionally !words"),
        (
            "tokens: \"@harm_ja|@harm_intent_only_ja ~3 @intent_ja\"", "tokens: \"@harm_ja ~3!@nothing @intent_ja\"",
            "unknown concept '@nothing'"
        ),
    ])
    func aBrokenPatternIsNamedByItsIDAndLine(original: String, broken: String, problem: String) throws {
        let yaml = ScreeningPolicy.builtInYAML()
        let lines = yaml.components(separatedBy: "\n")
        let index = try #require(lines.firstIndex { $0.contains("threat.ja.harm-with-intent") && $0.contains(original) })
        do {
            _ = try ScreeningPolicy(
                yaml: yaml.replacingOccurrences(of: lines[index], with: lines[index].replacingOccurrences(of: original, with: broken)))
            Issue.record("a broken pattern was accepted")
        } catch {
            #expect(error.line == index + 1, "\(error)")
            #expect(error.description.contains("'threat.ja.harm-with-intent'"), "\(error)")
            #expect(error.description.contains(problem), "\(error)")
        }
    }

    @Test func patternWordsTheAnalyzerCannotReadAreNamed() throws {
        #expect(ScreeningEngine(policy: .builtIn()).unreadablePatternWords.isEmpty)
        let yaml = ScreeningPolicy.builtInYAML().replacingOccurrences(of: "  harm_ja: [殺す,", with: "  harm_ja: [Привет, 殺す,")
        let engine = ScreeningEngine(policy: try ScreeningPolicy(yaml: yaml))
        #expect(engine.unreadablePatternWords == ["Привет"])
    }

    static let siteWarning = "{id: site.warning-script, tokens: \"=ご 発言 =は 記録 ~8 警察 ~2 相談\"}"

    @Test(arguments: [
        ("{id: site.warning-script, tokens: \"@script_ja ~8 警察\"}", "unknown concept '@script_ja'"),
        ("{id: site.warning-script, signal: SIGNAL_COERCION, tokens: \"警察 ~2 相談\"}", "unknown key 'signal'"),
        ("{id: site.warning-script}", "tokens): missing"),
        ("{id: threat.ja.harm-with-intent, tokens: \"警察 ~2 相談\"}", "another pattern has this id"),
    ])
    func aBrokenAgentWarningIsNamedByItsID(entry: String, problem: String) throws {
        let yaml = ScreeningPolicy.builtInYAML() + "\nagentWarnings:\n  - " + entry + "\n"
        #expect(
            try ScreeningPolicy(yaml: ScreeningPolicy.builtInYAML() + "\nagentWarnings:\n  - " + Self.siteWarning + "\n")
                .agentWarnings.map(\.id) == ["site.warning-script"])
        do {
            _ = try ScreeningPolicy(yaml: yaml)
            Issue.record("a broken agent warning was accepted")
        } catch {
            #expect(error.description.contains("agentWarnings["), "\(error)")
            #expect(error.description.contains(problem), "\(error)")
        }
    }

    @Test func agentWarningWordsTheAnalyzerCannotReadAreNamed() throws {
        let yaml = ScreeningPolicy.builtInYAML() + "\nagentWarnings:\n  - {id: site.warning-script, tokens: \"Привет ~8 警察\"}\n"
        #expect(ScreeningEngine(policy: try ScreeningPolicy(yaml: yaml)).unreadablePatternWords == ["Привет"])
    }

    @Test func aPatternIDIsUnique() throws {
        let yaml = ScreeningPolicy.builtInYAML().replacingOccurrences(
            of: "id: threat.ja.harm-at-target,", with: "id: threat.ja.harm-with-intent,")
        #expect(throws: PolicyError.self) { try ScreeningPolicy(yaml: yaml) }
    }

    @Test func invalidYAMLNamesTheLine() {
        do {
            _ = try ScreeningPolicy(yaml: "version: \"x\"\nweights: [unclosed\n")
            Issue.record("invalid YAML was accepted")
        } catch {
            #expect(error.line != nil)
        }
    }

    /// A key given twice is named with its line, in a line of its own: not the whole policy, which
    /// the YAML parser's own message quotes.
    @Test func aKeyGivenTwiceIsNamedWithItsLine() throws {
        let yaml = ScreeningPolicy.builtInYAML().replacingOccurrences(of: "  doubt: 0.10\n", with: "  doubt: 0.10\n  high: 0.9\n")
        let lines = yaml.components(separatedBy: "\n")
        let error = try #require(throws: PolicyError.self) { try ScreeningPolicy(yaml: yaml) }
        #expect(error.description.contains("a key given twice in one mapping: 'high'"), "\(error)")
        let line = try #require(error.line)
        #expect(lines[line - 1].hasPrefix("  high: "), "\(error)")
        #expect(error.description.count < 200, "\(error)")
    }

    @Test func outOfRangeWeightIsRefused() {
        let yaml = ScreeningPolicy.builtInYAML().replacingOccurrences(of: "conduct: 0.30", with: "conduct: 3")
        #expect(throws: PolicyError.self) { try ScreeningPolicy(yaml: yaml) }
    }

    @Test func enumNamesMatchTheJSONMapping() throws {
        for kind in SignalKind.allCases {
            var signal = Signal()
            signal.kind = kind
            signal.severity = .high
            let json = try signal.jsonString()
            if kind != .signalUnspecified { #expect(json.contains("\"\(kind.protoName)\"")) }
            #expect(SignalKind(protoName: kind.protoName) == kind)
        }
        for kind in DemandKind.allCases where kind != .demandUnspecified {
            var demand = Demand()
            demand.kind = kind
            #expect(try demand.jsonString().contains("\"\(kind.protoName)\""))
        }
        for verdict in Verdict.allCases where verdict != .unspecified {
            var result = ScreeningResult()
            result.verdict = verdict
            #expect(try result.jsonString().contains("\"\(verdict.protoName)\""))
        }
        for category in IncidentCategory.allCases where category != .incidentUnspecified {
            var incident = Incident()
            incident.category = category
            #expect(try incident.jsonString().contains("\"\(category.protoName)\""))
        }
        #expect(Action.declineWrittenStatement.protoName == "ACTION_DECLINE_WRITTEN_STATEMENT")
        #expect(RiskLevel.riskCritical.protoName == "RISK_CRITICAL")
        #expect(ContactChannel.inPerson.protoName == "CHANNEL_IN_PERSON")
    }

    @Test func recordValidationNamesTheField() {
        var missing = record(["x"])
        missing.recordID = ""
        #expect(throws: RecordValidationError(field: "recordId", problem: "is required")) { try missing.validate() }
        var noSpeaker = record(["x"])
        noSpeaker.utterances[0].speaker = .unspecified
        #expect(throws: RecordValidationError(field: "utterances[0].speaker", problem: "must be SPEAKER_CUSTOMER or SPEAKER_AGENT")) {
            try noSpeaker.validate()
        }
        // Stores index the product key and the description: both have a size limit.
        var longKey = record(["x"])
        longKey.incident.productKey = String(repeating: "k", count: 257)
        #expect(throws: RecordValidationError(field: "incident.productKey", problem: "is longer than 256 bytes")) { try longKey.validate() }
        var longDescription = record(["x"])
        longDescription.incident.description_p = String(repeating: "届", count: 342)  // 1 026 bytes
        #expect(
            throws: RecordValidationError(
                field: "incident.description",
                problem: "is 1026 bytes; at most 1024 are accepted (the transcript holds the details)")
        ) { try longDescription.validate() }
        longDescription.incident.description_p = String(repeating: "届", count: 341)  // 1 023 bytes
        #expect(throws: Never.self) { try longDescription.validate() }
    }
}
