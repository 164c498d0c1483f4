public import DemandScreenAPI
public import DemandScreenRPC

/// A demand record that cannot be screened, naming the field and what is wrong with it.
public struct RecordValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field's path in protobuf JSON names, e.g. "utterances[2].speaker".
    public var field: String
    public var problem: String

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}

extension RecordValidationError: CallErrorConvertible {
    public var callError: CallError { CallError(.invalidArgument, "invalid DemandRecord: \(self)") }
}

extension DemandRecord {
    /// Limits that keep one record from tying up the engine.
    public static let maximumUtterances = 5000
    public static let maximumIdentifierLength = 256
    /// The incident's description is a short summary by the agent (the transcript holds the
    /// rest); stores index it with the category and the product key, which PostgreSQL allows
    /// up to about 2.7 KB per index entry.
    public static let maximumDescriptionLength = 1024

    /// Checks what the engine relies on; the first problem found is thrown.
    public func validate() throws(RecordValidationError) {
        try Self.checkIdentifier(recordID, field: "recordId")
        try Self.checkIdentifier(claimantID, field: "claimantId")
        if !language.isEmpty && language != "ja" && language != "en" {
            throw RecordValidationError(field: "language", problem: "must be \"ja\", \"en\" or empty (detect), got \"\(language)\"")
        }
        if receivedAtUnixMs < 0 {
            throw RecordValidationError(field: "receivedAtUnixMs", problem: "must not be negative")
        }
        guard utterances.count <= Self.maximumUtterances else {
            throw RecordValidationError(
                field: "utterances", problem: "has \(utterances.count) entries; at most \(Self.maximumUtterances) are accepted")
        }
        for (index, utterance) in utterances.enumerated() {
            switch utterance.speaker {
            case .customer, .agent: break
            default:
                throw RecordValidationError(field: "utterances[\(index)].speaker", problem: "must be SPEAKER_CUSTOMER or SPEAKER_AGENT")
            }
        }
        if case .UNRECOGNIZED(let value) = channel {
            throw RecordValidationError(field: "channel", problem: "unknown value \(value)")
        }
        if case .UNRECOGNIZED(let value) = incident.category {
            throw RecordValidationError(field: "incident.category", problem: "unknown value \(value)")
        }
        try Self.checkLength(incident.productKey, field: "incident.productKey")
        if incident.description_p.utf8.count > Self.maximumDescriptionLength {
            throw RecordValidationError(
                field: "incident.description",
                problem:
                    "is \(incident.description_p.utf8.count) bytes; at most \(Self.maximumDescriptionLength) are accepted (the transcript holds the details)"
            )
        }
        try Self.checkMoney(assessment.verifiedLoss, field: "assessment.verifiedLoss", present: assessment.hasVerifiedLoss)
        for (index, demand) in demands.enumerated() {
            if case .UNRECOGNIZED(let value) = demand.kind {
                throw RecordValidationError(field: "demands[\(index)].kind", problem: "unknown value \(value)")
            }
            try Self.checkMoney(demand.amount, field: "demands[\(index)].amount", present: demand.hasAmount)
        }
    }

    private static func checkIdentifier(_ value: String, field: String) throws(RecordValidationError) {
        if value.isEmpty { throw RecordValidationError(field: field, problem: "is required") }
        try checkLength(value, field: field)
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw RecordValidationError(field: field, problem: "must not contain control characters")
        }
    }

    private static func checkLength(_ value: String, field: String) throws(RecordValidationError) {
        if value.utf8.count > maximumIdentifierLength {
            throw RecordValidationError(field: field, problem: "is longer than \(maximumIdentifierLength) bytes")
        }
    }

    private static func checkMoney(_ money: Money, field: String, present: Bool) throws(RecordValidationError) {
        guard present else { return }
        if money.amountMinor < 0 {
            throw RecordValidationError(field: "\(field).amountMinor", problem: "must not be negative")
        }
        let code = money.currencyCode
        if code.count != 3 || !code.allSatisfy({ $0.isASCII && $0.isUppercase }) {
            throw RecordValidationError(
                field: "\(field).currencyCode", problem: "must be an ISO 4217 code such as \"JPY\", got \"\(code)\"")
        }
    }
}
