import DemandScreenAPI
import Foundation
import SwiftProtobuf

/// Records for the response tests, in the shape of the contract.
enum TestRecords {
    /// A record typical of the verdict, in the case's language, fault finding and channel. The
    /// agent gives a name in the transcript, which no response may repeat.
    static func representative(_ testCase: ResponseWriterTests.Case) -> DemandRecord {
        let ja = testCase.language == "ja"
        var record = DemandRecord()
        record.recordID = "rec-\(testCase.language)-\(testCase.verdict.rawValue)-\(testCase.fault.rawValue)-\(testCase.channel.rawValue)"
        record.claimantID = "cl-test"
        record.channel = testCase.channel
        record.language = testCase.language
        record.contactDurationSeconds = 600
        record.incident.category = .incidentProductDefect
        record.incident.description_p = ja ? "購入したポットの取っ手の破損" : "Broken handle on the kettle bought last week"
        record.assessment.companyFault = testCase.fault
        record.assessment.causation = testCase.fault == .unknown ? .unknown : .confirmed
        let price = money(ja ? "JPY" : "USD", ja ? 3_300 : 2_999)
        switch testCase.verdict {
        case .legitimateClaim:
            record.assessment.verifiedLoss = price
            record.utterances = [
                utterance(.customer, ja ? "先週買ったポットの取っ手が取れてしまいました。" : "The handle came off the kettle I bought last week."),
                utterance(.agent, ja ? "担当の佐藤です。ご不便をおかけしております。" : "This is Sato speaking. I am sorry for the trouble."),
                utterance(.customer, ja ? "代金を返金してください。" : "Please refund the price."),
            ]
            record.demands = [demand(.demandRefund, amount: price, text: ja ? "返金" : "refund")]
        case .needsReview:
            record.utterances = [
                utterance(.customer, ja ? "ポットの取っ手が取れて、やけどしそうになりました。" : "The kettle handle came off and I nearly got burned."),
                utterance(.agent, ja ? "担当の佐藤です。状況を確認させてください。" : "This is Sato speaking. Let me check what happened."),
                utterance(.customer, ja ? "病院代も含めて二万円を払ってください。" : "I want $200 to cover the doctor as well."),
            ]
            record.demands = [
                demand(.demandCompensation, amount: money(ja ? "JPY" : "USD", ja ? 20_000 : 20_000), text: ja ? "二万円" : "$200")
            ]
        default:
            record.contactDurationSeconds = 4_200
            record.utterances = [
                utterance(.customer, ja ? "ポットが壊れてたんだよ。" : "The kettle you sold me is broken."),
                utterance(.agent, ja ? "担当の佐藤です。お品物を確認させていただけますか。" : "This is Sato speaking. May I check the item?"),
                utterance(
                    .customer,
                    ja
                        ? "誠意を見せろ。土下座しろ。念書を書け。でないとネットに晒すぞ。"
                        : "Get down on your knees and put it in writing, or I'll post your name all over the internet."),
            ]
            record.demands = [
                demand(.demandKneelingApology, text: ja ? "土下座" : "kneel"),
                demand(.demandWrittenApology, text: ja ? "念書" : "in writing"),
            ]
        }
        return record
    }

    /// A record of Examples/.
    static func example(_ file: String) throws -> DemandRecord {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Examples/\(file)").standardized
        return try DemandRecord(jsonString: String(contentsOf: url, encoding: .utf8))
    }

    static func hasKana(_ text: String) -> Bool {
        text.unicodeScalars.contains { (0x3040...0x30FF).contains($0.value) }
    }

    private static func utterance(_ speaker: Speaker, _ text: String) -> Utterance {
        var utterance = Utterance()
        utterance.speaker = speaker
        utterance.text = text
        return utterance
    }

    private static func money(_ currency: String, _ amount: Int64) -> Money {
        var money = Money()
        money.currencyCode = currency
        money.amountMinor = amount
        return money
    }

    private static func demand(_ kind: DemandKind, amount: Money? = nil, text: String) -> Demand {
        var demand = Demand()
        demand.kind = kind
        if let amount { demand.amount = amount }
        demand.text = text
        return demand
    }
}
