import DemandScreenAPI
import Foundation
import ScreeningEngine
import SwiftProtobuf

/// Reading stored rows back into the engine's and the API's types.
extension ContactStore {
    static let pastContactColumns =
        "record_id, claimant_id, received_at_ms, verdict, demand_kinds, incident_category, product_key, description, money_demanded"

    /// The contact in `row`'s `pastContactColumns`, which start at column `first`.
    static func pastContact(_ row: SQLRow, from first: Int = 0) throws(StoredRowError) -> PastContact {
        try PastContact(
            recordID: row.text(first), claimantID: row.text(first + 1), receivedAtUnixMs: row.integer(first + 2),
            verdict: Verdict(rawValue: Int(row.integer(first + 3))) ?? .unspecified,
            demandKinds: decodeList(row.text(first + 4)).map { DemandKind(rawValue: $0) ?? .demandUnspecified },
            moneyDemanded: DemandedMoney(stored: row.text(first + 8)),
            complaint: Complaint(
                category: IncidentCategory(rawValue: Int(row.integer(first + 5))) ?? .incidentUnspecified,
                productKey: row.text(first + 6), description: row.text(first + 7)))
    }

    static func riskFlag(_ row: SQLRow) throws -> RiskFlag {
        let signal = try Signal(serializedBytes: try row.blob(4) ?? [])
        var flag = RiskFlag()
        flag.kind = SignalKind(rawValue: Int(try row.integer(0))) ?? .signalUnspecified
        flag.severity = Severity(rawValue: Int(try row.integer(1))) ?? .unspecified
        flag.raisedAtUnixMs = try row.integer(2)
        flag.recordID = try row.text(3)
        flag.evidence = signal.evidence
        return flag
    }

    /// `?, ?, ?`: the placeholders of an `IN` list.
    static func placeholders(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }

    static func encodeList(_ values: [Int]) -> String { values.map(String.init).joined(separator: ",") }

    static func decodeList(_ text: String) -> [Int] { text.split(separator: ",").compactMap { Int($0) } }
}
