public import DemandScreenAPI

/// A minimal valid record.
public func sampleRecord(id: String = "r-1", text: String = "届いた商品が壊れていました。交換してください。") -> DemandRecord {
    var record = DemandRecord()
    record.recordID = id
    record.claimantID = "c-1"
    var utterance = Utterance()
    utterance.speaker = .customer
    utterance.text = text
    record.utterances = [utterance]
    record.incident.category = .incidentProductDefect
    record.assessment.companyFault = .confirmed
    record.assessment.causation = .confirmed
    var demand = Demand()
    demand.kind = .demandReplacement
    record.demands = [demand]
    return record
}
