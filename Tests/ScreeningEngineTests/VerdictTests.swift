import DemandScreenAPI
import Foundation
import ScreeningEngine
import Testing

@Suite struct VerdictTests {
    let engine = ScreeningEngine(policy: .builtIn())

    @Test func confirmedFaultWithAProportionateRemedyIsLegitimate() {
        let result = engine.screen(
            record(
                ["指定日より前に届いてしまい困っています", "配送料を返金してください"],
                category: .incidentDelivery, loss: 880, demands: [(.demandRefund, 880)]))
        #expect(result.verdict == .legitimateClaim)
        #expect(result.riskLevel == .riskLow)
        #expect(result.actions == [.resolve])
        #expect(result.legitimacyScore > 0.9)
        #expect(result.criteria.map(\.criterion) == [.responsibility, .causation, .conduct, .proportionality, .relevance])
        #expect(result.elements.map(\.element) == [.dissatisfaction, .demand])
        #expect(result.policyVersion == engine.policy.version)
        #expect(result.language == "ja")
    }

    @Test(arguments: [
        (Int64(8750), Int64(8750), "($87.50 / $87.50)"),
        (Int64(5), Int64(5), "($0.05 / $0.05)"),
        (Int64(1_000_000), Int64(120), "($10000.00 / $1.20)"),
    ])
    func dollarAmountsReadAsDollarsAndCents(demanded: Int64, loss: Int64, shown: String) {
        var roaming = record(["I was charged roaming although the add-on was active", "Please take it off"], language: "en")
        roaming.assessment.verifiedLoss.currencyCode = "USD"
        roaming.assessment.verifiedLoss.amountMinor = loss
        var refund = Demand()
        refund.kind = .demandRefund
        refund.amount.currencyCode = "USD"
        refund.amount.amountMinor = demanded
        roaming.demands = [refund]
        let result = engine.screen(roaming)
        let proportionality = result.criteria.first { $0.criterion == .proportionality }
        #expect(proportionality?.rationale.contains(shown) == true, "\(proportionality?.rationale ?? "none")")
        if demanded > loss {
            let excessive = result.signals.first { $0.kind == .signalExcessiveDemand }?.evidence.map(\.rule)
            #expect(excessive == ["demands: 8333.3× the verified loss"])
        }
    }

    @Test func unknownFactsNeedReviewNotUnjust() {
        let result = engine.screen(
            record(
                ["買った電気ケトルが壊れていました", "交換してください"], fault: .unknown, causation: .unknown,
                demands: [(.demandReplacement, nil)]))
        #expect(result.verdict == .needsReview)
        #expect(result.actions.contains(.verifyFacts))
        #expect(!result.actions.contains(.notifySecurity))
    }

    @Test func credibleThreatOverridesEveryWeight() {
        let result = engine.screen(
            record(["返金しろ。しなかったら殺すぞ"], loss: 3000, demands: [(.demandRefund, 3000)]))
        #expect(result.verdict == .unjustDemand)
        #expect(result.riskLevel == .riskCritical)
        #expect(result.actions.contains(.notifySecurity))
        #expect(result.actions.contains(.contactPolice))
    }

    @Test func angerAloneDoesNotMakeAClaimUnjust() {
        let result = engine.screen(
            record(["ふざけるな、本当に腹が立つ", "すぐに交換してください"], demands: [(.demandReplacement, nil)]))
        #expect(result.verdict == .legitimateClaim)
    }

    @Test func moneyOutOfProportionIsExcessive() throws {
        let result = engine.screen(
            record(["皿が欠けていた。慰謝料を払え"], loss: 3000, demands: [(.demandCompensation, 1_000_000)]))
        let excessive = try #require(result.signals.first { $0.kind == .signalExcessiveDemand })
        #expect(excessive.severity == .high)
        #expect(result.verdict != .legitimateClaim)
        let proportionality = try #require(result.criteria.first { $0.criterion == .proportionality })
        #expect(proportionality.score == 0)
    }

    @Test func moneyWhereFaultIsNoneIsExcessive() {
        let result = engine.screen(
            record(
                ["自分で落として割れたけど、お金を払ってほしい"], fault: .none, causation: .none,
                demands: [(.demandCompensation, 50000)]))
        #expect(result.signals.contains { $0.kind == .signalExcessiveDemand })
        #expect(result.verdict != .legitimateClaim)
    }

    @Test func dismissingStaffForALateDeliveryIsUnrelatedAndPriceless() {
        let result = engine.screen(
            record(
                ["配達が遅れた。あの配達員をクビにしろ"], category: .incidentDelivery,
                demands: [(.demandStaffDiscipline, nil)]))
        let kinds = Set(result.signals.map(\.kind))
        #expect(kinds.isSuperset(of: [.signalUnrelatedDemand, .signalExcessiveDemand, .signalCoercion]))
        #expect(result.verdict == .unjustDemand)
    }

    /// Putting a billing error right is asked as a repair, and an incident of no listed kind
    /// (INCIDENT_OTHER: a fall in the aisle) is compensated: both related, no unrelated demand.
    @Test(arguments: [
        (IncidentCategory.incidentBilling, DemandKind.demandRepair, "You billed me on estimates for a year. Please put my account right."),
        (.incidentOther, .demandCompensation, "I slipped on the spill in your aisle. Please cover the clinic bill."),
    ])
    func remediesOfTheIncidentAreRelated(category: IncidentCategory, kind: DemandKind, line: String) {
        let result = engine.screen(record([line], category: category, loss: 12000, demands: [(kind, 12000)]))
        #expect(!result.signals.contains { $0.kind == .signalUnrelatedDemand }, "\(result.signals)")
        #expect(result.verdict == .legitimateClaim, "\(result.criteria)")
    }

    /// A repair asked after a rude call, or of anything after an incident of no listed kind, is for
    /// a supervisor to weigh.
    @Test(arguments: [
        (IncidentCategory.incidentStaffConduct, "Your agent was rude to me on the phone. Repair my washing machine for free."),
        (.incidentOther, "Your survey email was annoying. Repair my fence for free."),
    ])
    func aRepairUnrelatedToTheIncidentGoesToASupervisor(category: IncidentCategory, line: String) {
        let result = engine.screen(record([line], category: category, demands: [(.demandRepair, nil)]))
        #expect(result.signals.contains { $0.kind == .signalUnrelatedDemand }, "\(result.signals)")
        #expect(result.verdict == .needsReview, "\(result.criteria)")
    }

    @Test func disciplineForConfirmedRudenessIsWarranted() {
        let confirmed = engine.screen(
            record(
                ["窓口の方に怒鳴られました。録音もあります", "あの方にはきちんと指導していただきたいです"], category: .incidentStaffConduct,
                demands: [(.demandApology, nil), (.demandStaffDiscipline, nil)]))
        #expect(!confirmed.signals.contains { $0.kind == .signalExcessiveDemand })
        #expect(confirmed.verdict == .legitimateClaim)
        // Not yet confirmed, the same demand is still out of proportion.
        let unconfirmed = engine.screen(
            record(
                ["窓口の方に怒鳴られました", "あの方にはきちんと指導していただきたいです"], fault: .unknown, causation: .unknown,
                category: .incidentStaffConduct, demands: [(.demandStaffDiscipline, nil)]))
        #expect(unconfirmed.signals.contains { $0.kind == .signalExcessiveDemand && $0.severity == .high })
        // Confirmed, but a dismissal asked for is more than the fault warrants.
        for dismissal in ["I'd like him fired.", "Not kidding, she should be fired.", "あんな人、辞めさせるべきです。"] {
            let asked = engine.screen(
                record([dismissal], category: .incidentStaffConduct, demands: [(.demandStaffDiscipline, nil)]))
            #expect(asked.signals.contains { $0.kind == .signalExcessiveDemand }, "\(dismissal)")
            #expect(asked.verdict != .legitimateClaim, "\(dismissal)")
        }
    }

    /// Asking only to be told what happened, or that it not happen again, is answered whatever the
    /// facts; money, or any signal, still waits for them.
    @Test func aClaimAskingOnlyForAnExplanationIsAnsweredBeforeTheFacts() {
        let lines = ["請求額が先月の倍になっています。どうしてこうなったのか説明してください。"]
        for fault in [Fault.unknown, .none] {
            let explanation = engine.screen(
                record(lines, fault: fault, causation: .unknown, category: .incidentBilling, demands: [(.demandExplanation, nil)]))
            #expect(explanation.verdict == .legitimateClaim, "\(fault)")
            let improvement = engine.screen(
                record(lines, fault: fault, causation: .unknown, category: .incidentBilling, demands: [(.demandImprovement, nil)]))
            #expect(improvement.verdict == .legitimateClaim, "\(fault)")
        }
        let withMoney = engine.screen(
            record(
                lines, fault: .unknown, causation: .unknown, category: .incidentBilling,
                demands: [(.demandExplanation, nil), (.demandRefund, 5_000)]))
        #expect(withMoney.verdict == .needsReview)
        let withAnInsult = engine.screen(
            record(
                lines + ["お前みたいな馬鹿じゃ話にならん"], fault: .unknown, causation: .unknown, category: .incidentBilling,
                demands: [(.demandExplanation, nil)]))
        #expect(withAnInsult.verdict != .legitimateClaim)
        // 誠意 beside the explanation: a demand that is not answerable.
        let sincerity = engine.screen(
            record(
                ["説明しろ。あとは誠意を見せろ。わかってるよな。"], fault: .none, causation: .none, category: .incidentBilling,
                demands: [(.demandUnspecified, nil), (.demandExplanation, nil)]))
        #expect(sincerity.verdict != .legitimateClaim)
        // The same words recorded as an explanation only.
        let sincerityInWords = engine.screen(
            record(
                ["説明しろ。あとは誠意を見せろ。わかってるよな。"], fault: .none, causation: .none, category: .incidentBilling,
                demands: [(.demandExplanation, nil)]))
        #expect(sincerityInWords.verdict != .legitimateClaim)
        // Menace a broad pattern read, below the model's confirmation, still waits for a supervisor.
        for veiled in ["担当の方の車のナンバー、控えておきましたので。", "知り合いに人探しが得意なのがおるんですよ。"] {
            let result = engine.screen(
                record(
                    lines + [veiled], fault: .none, causation: .none, category: .incidentBilling,
                    demands: [(.demandExplanation, nil)]))
            #expect(result.verdict != .legitimateClaim, "\(veiled)")
        }
        // A claimant already flagged is not answered as a routine claim.
        let flagged = engine.screen(
            record(lines, fault: .unknown, causation: .unknown, category: .incidentBilling, demands: [(.demandExplanation, nil)]),
            history: ClaimantHistory(standingRisk: .riskCritical))
        #expect(flagged.verdict != .legitimateClaim)
        #expect(flagged.riskLevel == .riskCritical)
        // A flag of a long call before is no misconduct: the question is still answered.
        let longBefore = engine.screen(
            record(lines, fault: .unknown, causation: .unknown, category: .incidentBilling, demands: [(.demandExplanation, nil)]),
            history: ClaimantHistory(standingRisk: .riskElevated))
        #expect(longBefore.verdict == .legitimateClaim)
    }

    @Test func aThreatTheModelDoubtsIsNoPressureBesideAPricelessDemand() throws {
        let result = engine.screen(
            record(
                [
                    "My daughter broke out in hives on Monday because the sub let her eat a shrimp cracker.",
                    "Thankfully it was mild. But she could've ended up in the hospital.",
                    "I'd like him fired. I'm saying that calmly, I'm not trying to make a scene.",
                ], category: .incidentServiceQuality, demands: [(.demandStaffDiscipline, nil)], language: "en"))
        let threat = try #require(result.signals.first { $0.kind == .signalThreatViolence })
        #expect(threat.evidence.allSatisfy { $0.rule.contains(ThreatModel.doubtedMarker) })
        #expect(result.signals.contains { $0.kind == .signalExcessiveDemand && $0.severity == .high })
        #expect(result.verdict == .needsReview)
    }

    /// A veiled threat no pattern phrases, which the model reads at SEVERITY_MEDIUM.
    static let busTaken = "担当の方、毎朝7時のバスに乗っておられますよね。"
    static let vanParked = "Your driver parks that white van on Elm Street every night, doesn't he."

    @Test func aThreatBesideAnExcessiveDemandIsUnjust() throws {
        let line = "Fix it by Friday, or else."
        let asked = record([line], loss: 3000, demands: [(.demandCompensation, 15000)], language: "en")
        let result = engine.screen(asked)
        #expect(result.signals.contains { $0.kind == .signalThreatViolence && $0.severity == .medium })
        #expect(result.signals.contains { $0.kind == .signalExcessiveDemand && $0.severity == .medium })
        #expect(result.verdict == .unjustDemand)
        // The same with a proportionate demand goes to a supervisor.
        let proportionate = engine.screen(record([line], loss: 3000, demands: [(.demandCompensation, 3000)], language: "en"))
        #expect(proportionate.verdict == .needsReview)
        // A threat only the model read is no leverage: it also reads a victim's account of one.
        let modelOnly = engine.screen(
            record([Self.vanParked], loss: 3000, demands: [(.demandCompensation, 15000)], language: "en"))
        let read = try #require(modelOnly.signals.first { $0.kind == .signalThreatViolence })
        #expect(read.evidence.allSatisfy { ThreatModel.reads($0) })
        #expect(modelOnly.verdict == .needsReview)
        // A policy without `signalGroups.leverage` leaves it to a supervisor too.
        let yaml = ScreeningPolicy.builtInYAML().replacingOccurrences(
            of: "  leverage: [SIGNAL_THREAT_VIOLENCE, SIGNAL_THREAT_EXPOSURE]\n", with: "")
        let without = ScreeningEngine(policy: try ScreeningPolicy(yaml: yaml))
        #expect(without.policy.rules.leverageSignals.isEmpty)
        #expect(without.screen(asked).verdict == .needsReview)
    }

    /// A site whose agents are trained to answer a threat with a fixed warning lists it as an
    /// `agentWarnings` pattern (none are built in), with `threatModel.warned`.
    static func scripted() throws -> ScreeningEngine {
        let yaml =
            ScreeningPolicy.builtInYAML().replacingOccurrences(
                of: "  doubtCoercion: 0.01\n", with: "  doubtCoercion: 0.01\n  warned: 0.2\n")
                + """

                agentWarnings:
                  - {id: site.ja.warning-script, tokens: "=ご 発言 =は 記録 ~8 警察 ~2 相談"}
                  - {id: site.en.warning-script, tokens: "i have to log that as a threat"}
                """
        return ScreeningEngine(policy: try ScreeningPolicy(yaml: yaml))
    }

    static let scriptedJA = "ただいまのご発言は記録し、警察に相談いたします。返金の手続きは進めます。"
    static let scriptedEN = "I have to log that as a threat. The refund is still going through."

    @Test(arguments: [
        (busTaken, scriptedJA, "site.ja.warning-script", "ja"),
        (vanParked, scriptedEN, "site.en.warning-script", "en"),
    ])
    func aSitesScriptedWarningConfirmsAThreatOnlyTheModelRead(line: String, warning: String, rule: String, language: String)
        throws
    {
        let asked = record([line], loss: 3000, demands: [(.demandRefund, 3000)], agent: [warning], language: language)
        // The built-in policy has no agent warnings: the model's reading stays for a supervisor.
        #expect(engine.policy.agentWarnings.isEmpty)
        #expect(engine.screen(asked).signals.first { $0.kind == .signalThreatViolence }?.severity == .medium)
        let warned = try Self.scripted().screen(asked)
        let threat = try #require(warned.signals.first { $0.kind == .signalThreatViolence })
        #expect(threat.severity == .high)
        let agents = try #require(threat.evidence.first { $0.rule == rule })
        #expect(agents.utteranceIndex == 1)
        #expect(warning.contains(agents.excerpt) && !agents.excerpt.isEmpty)
        #expect(warned.verdict == .unjustDemand)
        // Two readers agree: the claimant is flagged.
        #expect(HistoryWindows.flags(raisedBy: warned).contains { $0.kind == .signalThreatViolence })
    }

    @Test func aScriptedWarningRaisesAThreatTheModelReadsBelowMedium() throws {
        let line = "The girl at the front desk, she finishes at six, right?"
        let scripted = try Self.scripted()
        let unanswered = scripted.screen(record([line], loss: 3000, demands: [(.demandRefund, 3000)], language: "en"))
        #expect(!unanswered.signals.contains { $0.kind == .signalThreatViolence })
        let warned = scripted.screen(
            record([line], loss: 3000, demands: [(.demandRefund, 3000)], agent: [Self.scriptedEN], language: "en"))
        let threat = try #require(warned.signals.first { $0.kind == .signalThreatViolence })
        #expect(threat.severity == .high)
        let read = try #require(threat.evidence.first { $0.rule.hasPrefix(ThreatModel.evidenceRule + " p=") })
        let probability = try #require(Double(read.rule.dropFirst((ThreatModel.evidenceRule + " p=").count)))
        let thresholds = try #require(scripted.policy.threatModel)
        #expect(probability >= thresholds.warned ?? 1 && probability < thresholds.medium, "\(read.rule)")
        #expect(warned.verdict == .unjustDemand)
    }

    @Test func onlyTheOpeningOfALongReplyIsReadForAWarning() throws {
        let scripted = try Self.scripted()
        let filler = String(repeating: "The box was fine otherwise. ", count: 40)
        let opening = scripted.screen(
            record(
                [Self.vanParked], loss: 3000, demands: [(.demandRefund, 3000)], agent: [Self.scriptedEN + " " + filler],
                language: "en"))
        #expect(opening.signals.first { $0.kind == .signalThreatViolence }?.severity == .high)
        let buried = scripted.screen(
            record(
                [Self.vanParked], loss: 3000, demands: [(.demandRefund, 3000)], agent: [filler + Self.scriptedEN],
                language: "en"))
        #expect(buried.signals.first { $0.kind == .signalThreatViolence }?.severity == .medium)
    }

    @Test func aWarningBeforeTheCallersWordsOrFromTheCallerConfirmsNothing() throws {
        let scripted = try Self.scripted()
        var early = record([Self.vanParked], loss: 3000, demands: [(.demandRefund, 3000)], language: "en")
        var warning = Utterance()
        warning.speaker = .agent
        warning.text = Self.scriptedEN
        early.utterances.insert(warning, at: 0)
        #expect(scripted.screen(early).verdict == .needsReview)
        let fromTheCaller = scripted.screen(
            record([Self.vanParked, Self.scriptedEN], loss: 3000, demands: [(.demandRefund, 3000)], language: "en"))
        #expect(!fromTheCaller.signals.flatMap(\.evidence).contains { $0.rule.hasPrefix("site.") })
        #expect(fromTheCaller.signals.first { $0.kind == .signalThreatViolence }?.severity != .high)
    }

    @Test func writtenApologyUnderPressureIsDeclined() {
        let pressured = engine.screen(
            record(["念書を書け。書かないならネットに晒す"], fault: .unknown, demands: [(.demandWrittenApology, nil)]))
        #expect(pressured.actions.contains(.declineWrittenStatement))
        let sincere = engine.screen(
            record(["名前の誤りについて、書面で謝罪していただけますか"], demands: [(.demandWrittenApology, nil)]))
        #expect(!sincere.actions.contains(.declineWrittenStatement))
    }

    @Test func prolongedContactRaisesASignal() {
        let result = engine.screen(record(["まだ話は終わっていない"], duration: 7300))
        let signal = result.signals.first { $0.kind == .signalProlongedContact }
        #expect(signal?.severity == .medium)
        #expect(result.verdict != .unjustDemand, "length alone never makes a demand unjust")
    }

    @Test func repeatedContactComesFromHistory() throws {
        let history = ClaimantHistory(contacts24h: 4, contacts30d: 9, repeatedDemandContacts: 3)
        let result = engine.screen(record(["また電話した。返金しろ"], demands: [(.demandRefund, 1000)]), history: history)
        #expect(result.signals.contains { $0.kind == .signalRepeatedContact && $0.severity == .high })
        #expect(result.claimant.contacts24H == 5)
        // The third call in a day about an open legitimate claim: a follow-up.
        let followUp = ClaimantHistory(contacts24h: 2, contacts30d: 2, hasOpenLegitimateClaim: true)
        let legitimate = engine.screen(record(["先週の不具合、まだ直っていません"]), history: followUp)
        #expect(!legitimate.signals.contains { $0.kind == .signalRepeatedContact })
        // A threat the model doubts does not make a calm follow-up pressure.
        let worried = engine.screen(
            record(
                [
                    "My daughter broke out in hives on Monday because the sub let her eat a shrimp cracker.",
                    "Thankfully it was mild. But she could've ended up in the hospital.",
                    "I'm calling again about the refund for the lunch plan you promised last week.",
                ], category: .incidentServiceQuality, demands: [(.demandRefund, 4_000)], language: "en"),
            history: followUp)
        let doubted = try #require(worried.signals.first { $0.kind == .signalThreatViolence })
        #expect(doubted.evidence.allSatisfy { $0.rule.contains(ThreatModel.doubtedMarker) })
        #expect(!worried.signals.contains { $0.kind == .signalRepeatedContact })
        let noOpenClaim = ClaimantHistory(contacts24h: 2, contacts30d: 2)
        #expect(engine.screen(record(["先週の不具合、まだ直っていません"]), history: noOpenClaim).signals.contains { $0.kind == .signalRepeatedContact })
    }

    /// Money raised since an earlier call beyond what the loss supports is an excessive demand,
    /// and makes a repeated call no follow-up; a rise the verified loss supports is neither.
    @Test func moneyRaisedSinceAnEarlierCallIsAnEscalatingDemand() throws {
        let earlier = ClaimantHistory(
            contacts24h: 2, contacts30d: 2, hasOpenLegitimateClaim: true,
            leastEarlierMoneyDemanded: DemandedMoney(currencyCode: "JPY", amountMinor: 10_000))
        func screen(_ amount: Int64, loss: Int64? = nil, history: ClaimantHistory = earlier) -> ScreeningResult {
            engine.screen(record(["先日の件、お金で払ってください"], loss: loss, demands: [(.demandCompensation, amount)]), history: history)
        }
        func escalates(_ result: ScreeningResult) -> Bool { result.signals.contains { $0.kind == .signalExcessiveDemand } }
        // The policy's ratio, 1.5, is the boundary; the loss is not verified.
        let raised = screen(15_000)
        let excessive = try #require(raised.signals.first { $0.kind == .signalExcessiveDemand })
        #expect(excessive.evidence.contains { $0.excerpt == "¥10000 → ¥15000" }, "\(excessive.evidence)")
        #expect(raised.signals.contains { $0.kind == .signalRepeatedContact }, "an escalating call is not a follow-up")
        #expect(!escalates(screen(14_999)))
        #expect(!screen(14_999).signals.contains { $0.kind == .signalRepeatedContact }, "a calm follow-up")
        // Another currency is not compared; a first contact has nothing to escalate from.
        var dollars = record(["Please pay me for the trouble"], demands: [(.demandCompensation, 50_000)])
        dollars.demands[0].amount.currencyCode = "USD"
        #expect(!engine.screen(dollars, history: earlier).signals.contains { $0.kind == .signalExcessiveDemand })
        #expect(!escalates(screen(50_000, history: .firstContact)))
        // The same rise, supported by a loss verified since: a follow-up with a sound demand.
        let supported = screen(25_000, loss: 25_000)
        #expect(!supported.signals.contains { $0.kind == .signalExcessiveDemand || $0.kind == .signalRepeatedContact })
        #expect(supported.verdict == .legitimateClaim)
    }

    /// A repeated call on an open claim that demands money out of proportion (here: where the
    /// company is not at fault) is no follow-up, however calm.
    @Test func anExcessiveDemandMakesARepeatedCallNoFollowUp() {
        let followUp = ClaimantHistory(contacts24h: 2, contacts30d: 2, hasOpenLegitimateClaim: true)
        let calm = engine.screen(record(["先日の件です。返金をお願いします"], fault: .none, demands: [(.demandRefund, 3000)]), history: followUp)
        #expect(calm.signals.contains { $0.kind == .signalExcessiveDemand })
        #expect(calm.signals.contains { $0.kind == .signalRepeatedContact })
    }

    @Test func englishRecordsAreJudgedInEnglish() throws {
        let result = engine.screen(record(["I was charged twice. Please refund it."], loss: 4599, demands: [(.demandRefund, 4599)]))
        #expect(result.language == "en")
        #expect(result.verdict == .legitimateClaim)
        let conduct = try #require(result.criteria.first { $0.criterion == .conduct })
        #expect(conduct.rationale.contains("No threats"))
    }

    @Test func legitimacyIsTheWeightedCombination() {
        let result = engine.screen(record(["壊れていました"], fault: .partial, causation: .plausible))
        let weighted = result.criteria.reduce(0) { $0 + $1.score * $1.weight } / result.criteria.reduce(0) { $0 + $1.weight }
        #expect(abs(result.legitimacyScore - weighted) < 0.001)
    }
}
