import DemandScreenAPI

extension ScreeningEngine {
    /// A short readable name of a signal, demand or incident, for rationales.
    static func label(_ kind: SignalKind, ja: Bool) -> String {
        switch kind {
        case .signalThreatViolence: ja ? "暴力の脅し" : "threat of violence"
        case .signalThreatExposure: ja ? "暴露の脅し" : "exposure threat"
        case .signalCoercion: ja ? "強要" : "coercion"
        case .signalAbusiveLanguage: ja ? "暴言" : "abusive language"
        case .signalRepeatedContact: ja ? "度重なる連絡" : "repeated contact"
        case .signalProlongedContact: ja ? "長時間の拘束" : "prolonged contact"
        case .signalUnclearPurpose: ja ? "目的不明" : "unclear purpose"
        case .signalExcessiveDemand: ja ? "過大な要求" : "excessive demand"
        case .signalUnrelatedDemand: ja ? "無関係な要求" : "unrelated demand"
        case .signalRecurringIssue: ja ? "同一事案の多発" : "recurring issue"
        default: kind.protoName
        }
    }

    static func label(_ kind: DemandKind, ja: Bool) -> String {
        switch kind {
        case .demandRefund: ja ? "返金" : "a refund"
        case .demandReplacement: ja ? "交換" : "a replacement"
        case .demandRepair: ja ? "修理" : "a repair"
        case .demandCompensation: ja ? "賠償" : "compensation"
        case .demandApology: ja ? "謝罪" : "an apology"
        case .demandWrittenApology: ja ? "謝罪文" : "a written apology"
        case .demandVisit: ja ? "訪問" : "a visit"
        case .demandKneelingApology: ja ? "土下座" : "a kneeling apology"
        case .demandStaffDiscipline: ja ? "従業員の処分" : "disciplining staff"
        case .demandPublicApology: ja ? "公開謝罪" : "a public apology"
        case .demandExplanation: ja ? "説明" : "an explanation"
        case .demandImprovement: ja ? "改善" : "an improvement"
        default: ja ? "不特定の要求" : "an unspecified demand"
        }
    }

    static func label(_ category: IncidentCategory, ja: Bool) -> String {
        switch category {
        case .incidentProductDefect: ja ? "製品の不具合" : "product defect"
        case .incidentDelivery: ja ? "配送" : "delivery"
        case .incidentStaffConduct: ja ? "従業員の対応" : "staff conduct"
        case .incidentBilling: ja ? "請求" : "billing"
        case .incidentServiceQuality: ja ? "サービス品質" : "service quality"
        case .incidentInformation: ja ? "案内・情報" : "information"
        case .incidentOther: ja ? "その他" : "other"
        default: ja ? "未分類" : "unclassified"
        }
    }
}
