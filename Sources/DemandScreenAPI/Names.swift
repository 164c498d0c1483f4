/// Short names for the contract's messages and enums, so that code reads as the .proto does.
/// (`Channel` is `ContactChannel` here, to stay clear of SwiftNIO's `Channel`.)
public typealias DemandRecord = Demandscreen_V1_DemandRecord
public typealias ScreeningResult = Demandscreen_V1_ScreeningResult
public typealias Utterance = Demandscreen_V1_Utterance
public typealias Speaker = Demandscreen_V1_Speaker
public typealias Incident = Demandscreen_V1_Incident
public typealias IncidentCategory = Demandscreen_V1_IncidentCategory
public typealias Assessment = Demandscreen_V1_Assessment
public typealias Fault = Demandscreen_V1_Fault
public typealias Causation = Demandscreen_V1_Causation
public typealias Demand = Demandscreen_V1_Demand
public typealias DemandKind = Demandscreen_V1_DemandKind
public typealias Money = Demandscreen_V1_Money
public typealias ContactChannel = Demandscreen_V1_Channel
public typealias Verdict = Demandscreen_V1_Verdict
public typealias RiskLevel = Demandscreen_V1_RiskLevel
public typealias Criterion = Demandscreen_V1_Criterion
public typealias CriterionScore = Demandscreen_V1_CriterionScore
public typealias SignalKind = Demandscreen_V1_SignalKind
public typealias Severity = Demandscreen_V1_Severity
public typealias Signal = Demandscreen_V1_Signal
public typealias Evidence = Demandscreen_V1_Evidence
public typealias Element = Demandscreen_V1_Element
public typealias UtteranceElement = Demandscreen_V1_UtteranceElement
public typealias Action = Demandscreen_V1_Action
public typealias WrittenResponse = Demandscreen_V1_WrittenResponse
public typealias ClaimantSummary = Demandscreen_V1_ClaimantSummary
public typealias GetClaimantRiskRequest = Demandscreen_V1_GetClaimantRiskRequest
public typealias ClaimantRisk = Demandscreen_V1_ClaimantRisk
public typealias RiskFlag = Demandscreen_V1_RiskFlag
public typealias Contact = Demandscreen_V1_Contact
public typealias ClaimantNote = Demandscreen_V1_ClaimantNote
public typealias ListRiskFlagsRequest = Demandscreen_V1_ListRiskFlagsRequest
public typealias ListRiskFlagsResponse = Demandscreen_V1_ListRiskFlagsResponse
public typealias FlaggedClaimant = Demandscreen_V1_FlaggedClaimant
public typealias ListRecurringIssuesRequest = Demandscreen_V1_ListRecurringIssuesRequest
public typealias ListRecurringIssuesResponse = Demandscreen_V1_ListRecurringIssuesResponse
public typealias RecurringIssue = Demandscreen_V1_RecurringIssue
public typealias AddClaimantNoteRequest = Demandscreen_V1_AddClaimantNoteRequest
public typealias AddClaimantNoteResponse = Demandscreen_V1_AddClaimantNoteResponse
public typealias PurgeClaimantRequest = Demandscreen_V1_PurgeClaimantRequest
public typealias PurgeClaimantResponse = Demandscreen_V1_PurgeClaimantResponse
public typealias HealthCheckRequest = Grpc_Health_V1_HealthCheckRequest
public typealias HealthCheckResponse = Grpc_Health_V1_HealthCheckResponse

/// The full method names of the contract, as they travel in `RequestFrame.method`.
public enum MethodName {
    public static let screen = "/demandscreen.v1.Screening/Screen"
    public static let getClaimantRisk = "/demandscreen.v1.Screening/GetClaimantRisk"
    public static let listRiskFlags = "/demandscreen.v1.Screening/ListRiskFlags"
    public static let listRecurringIssues = "/demandscreen.v1.Screening/ListRecurringIssues"
    public static let addClaimantNote = "/demandscreen.v1.Screening/AddClaimantNote"
    public static let purgeClaimant = "/demandscreen.v1.Screening/PurgeClaimant"
    public static let healthCheck = "/grpc.health.v1.Health/Check"
}
