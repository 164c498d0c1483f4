import DemandScreenAPI

/// Builds records for tests: customer lines, then what the agent confirmed and what is demanded.
func record(
    _ customer: [String],
    id: String = "r-1",
    fault: Fault = .confirmed,
    causation: Causation = .confirmed,
    category: IncidentCategory = .incidentProductDefect,
    loss: Int64? = nil,
    demands: [(DemandKind, Int64?)] = [],
    duration: UInt32 = 300,
    agent: [String] = [],
    language: String = ""
) -> DemandRecord {
    var record = DemandRecord()
    record.recordID = id
    record.claimantID = "c-1"
    record.channel = .phone
    record.contactDurationSeconds = duration
    record.language = language
    for line in customer {
        var utterance = Utterance()
        utterance.speaker = .customer
        utterance.text = line
        record.utterances.append(utterance)
    }
    for line in agent {
        var utterance = Utterance()
        utterance.speaker = .agent
        utterance.text = line
        record.utterances.append(utterance)
    }
    record.incident.category = category
    record.assessment.companyFault = fault
    record.assessment.causation = causation
    if let loss {
        record.assessment.verifiedLoss.currencyCode = "JPY"
        record.assessment.verifiedLoss.amountMinor = loss
    }
    for (kind, amount) in demands {
        var demand = Demand()
        demand.kind = kind
        if let amount {
            demand.amount.currencyCode = "JPY"
            demand.amount.amountMinor = amount
        }
        record.demands.append(demand)
    }
    return record
}
