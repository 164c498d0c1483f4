import DemandScreenAPI
import Foundation

/// The values a template can use. Only what is known is present: a missing value makes its
/// section (`{{#incident}}…{{/incident}}`) disappear.
///
/// - `incident`: the incident's description, as the agent recorded it.
/// - `verifiedLoss`: the loss the company verified, formatted (`¥880`, `$45.99`).
/// - `channel`: the channel's name in the response's language (`responses.yaml`).
/// - `callbackMinutes`, `replyBusinessDays`: the commitments of `responses.yaml`; always present.
/// - one flag per demand kind: `refund`, `replacement`, `repair`, `compensation`, `apology`,
///   `writtenApology`, `visit`, `kneelingApology`, `staffDiscipline`, `publicApology`,
///   `explanation`, `improvement`, `unspecifiedDemand` (a demand that names nothing, 誠意を見せろ).
/// - `remedy`: a refund, replacement, repair, compensation, explanation or improvement is demanded.
/// - `moneyDemanded`: a refund, compensation or any amount of money is demanded.
/// - `declineWrittenStatement`: a written apology or pledge is demanded as leverage (the
///   engine's ACTION_DECLINE_WRITTEN_STATEMENT, or a written apology demanded in a case that is
///   not a legitimate claim).
/// - `threats`: a threat of violence or exposure, or coercion, was found.
/// - `verifyFacts`, `escalateSupervisor`, `endContact`: the engine recommends that action.
enum ResponseContext {
    static let optionalValues = ["incident", "verifiedLoss", "channel"]

    static let demandFlags: [DemandKind: String] = [
        .demandRefund: "refund", .demandReplacement: "replacement", .demandRepair: "repair", .demandCompensation: "compensation",
        .demandApology: "apology", .demandWrittenApology: "writtenApology", .demandVisit: "visit",
        .demandKneelingApology: "kneelingApology", .demandStaffDiscipline: "staffDiscipline",
        .demandPublicApology: "publicApology", .demandExplanation: "explanation", .demandImprovement: "improvement",
        .demandUnspecified: "unspecifiedDemand",
    ]

    static let keys: Set<String> = Set(optionalValues + Array(demandFlags.values)).union([
        "callbackMinutes", "replyBusinessDays", "remedy", "moneyDemanded", "declineWrittenStatement", "threats",
        "verifyFacts", "escalateSupervisor", "endContact",
    ])

    static func values(
        record: DemandRecord, result: ScreeningResult, language: String, data: ResponseData
    ) -> [String: Any] {
        var values: [String: Any] = [
            "callbackMinutes": data.commitments.callbackMinutes,
            "replyBusinessDays": data.commitments.replyBusinessDays,
        ]
        let description = record.incident.description_p.trimmingCharacters(in: .whitespacesAndNewlines)
        if !description.isEmpty { values["incident"] = description }
        if record.assessment.hasVerifiedLoss, record.assessment.verifiedLoss.amountMinor > 0 {
            values["verifiedLoss"] = format(record.assessment.verifiedLoss)
        }
        if let name = data.channelNames[record.channel]?[language] { values["channel"] = name }
        for demand in record.demands {
            if let flag = demandFlags[demand.kind] { values[flag] = true }
        }
        let remedies: Set<DemandKind> = [
            .demandRefund, .demandReplacement, .demandRepair, .demandCompensation, .demandExplanation, .demandImprovement,
        ]
        if record.demands.contains(where: { remedies.contains($0.kind) }) { values["remedy"] = true }
        let moneyDemanded = record.demands.contains {
            $0.kind == .demandRefund || $0.kind == .demandCompensation || ($0.hasAmount && $0.amount.amountMinor > 0)
        }
        if moneyDemanded { values["moneyDemanded"] = true }
        let writtenApologyDemanded = record.demands.contains { $0.kind == .demandWrittenApology }
        if result.actions.contains(.declineWrittenStatement) || (writtenApologyDemanded && result.verdict != .legitimateClaim) {
            values["declineWrittenStatement"] = true
        }
        if result.signals.contains(where: { [.signalThreatViolence, .signalThreatExposure, .signalCoercion].contains($0.kind) }) {
            values["threats"] = true
        }
        if result.actions.contains(.verifyFacts) { values["verifyFacts"] = true }
        if result.actions.contains(.escalateSupervisor) { values["escalateSupervisor"] = true }
        if result.actions.contains(.endContact) { values["endContact"] = true }
        return values
    }

    /// `¥880`, `$45.99`, else the minor units and the currency code.
    static func format(_ money: Money) -> String {
        switch money.currencyCode {
        case "JPY": return "¥\(money.amountMinor)"
        case "USD": return String(format: "$%.2f", Double(money.amountMinor) / 100)
        default: return "\(money.amountMinor) \(money.currencyCode) (minor units)"
        }
    }
}
