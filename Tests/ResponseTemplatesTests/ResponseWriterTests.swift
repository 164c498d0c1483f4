import DemandScreenAPI
import Foundation
import ResponseTemplates
import ScreeningEngine
import Testing

/// Every verdict × language × fault finding × channel renders through the built-in set.
@Suite struct ResponseWriterTests {
    static let engine = ScreeningEngine(policy: .builtIn())
    static let writer = ResponseWriter(templates: .builtIn())

    struct Case: CustomTestStringConvertible, Sendable {
        let language: String
        let verdict: Verdict
        let fault: Fault
        let channel: ContactChannel
        var testDescription: String { "\(language) \(verdict.protoName) \(fault.protoName) \(channel.protoName)" }
    }

    static let cases: [Case] = ["ja", "en"].flatMap { language in
        [Verdict.legitimateClaim, .needsReview, .unjustDemand].flatMap { verdict in
            [Fault.confirmed, .partial, .none, .unknown].flatMap { fault in
                [ContactChannel.phone, .email, .inPerson, .webForm, .chat, .socialMedia, .unspecified].map { channel in
                    Case(language: language, verdict: verdict, fault: fault, channel: channel)
                }
            }
        }
    }

    @Test(arguments: cases)
    func rendersEveryCombination(_ testCase: Case) throws {
        let record = TestRecords.representative(testCase)
        var result = Self.engine.screen(record)
        // Some combinations cannot arise from the engine (a legitimate claim whose fault is
        // unknown): the verdict is then set directly, the rest of the result stays the engine's.
        result.verdict = testCase.verdict
        let composition = Self.writer.compose(record: record, result: result)
        let response = composition.response
        let text = response.subject + "\n" + response.body

        #expect(composition.fallbackReason == nil)
        #expect(response.language == testCase.language)
        let family = TemplateName.Family(testCase.channel)
        let verdictPart = try #require(TemplateName.VerdictPart(testCase.verdict))
        // Confirmed fault has its own templates for legitimate claims and unjust demands; every
        // other case falls back to the verdict's generic template.
        let expected =
            testCase.fault == .confirmed && testCase.verdict != .needsReview
            ? "\(testCase.language)/\(verdictPart.rawValue).confirmed.\(family.rawValue)"
            : "\(testCase.language)/\(verdictPart.rawValue).\(family.rawValue)"
        #expect(response.templateID == expected)
        #expect(Self.writer.templates.sources[response.templateID] == "built-in \(response.templateID).mustache")
        #expect(!response.subject.isEmpty && !response.body.isEmpty)
        #expect(!text.contains("{{") && !text.contains("}}"))
        #expect(testCase.language == "ja" ? TestRecords.hasKana(text) : !TestRecords.hasKana(text))

        // No staff personal data: the agent's name in the transcript never reaches the response.
        for name in ["佐藤", "Sato"] { #expect(!text.contains(name)) }
        #expect(!text.contains("@"))
        #expect(text.firstMatch(of: /\d{2,4}-\d{2,4}-\d{3,4}/) == nil)

        let findings = SafetyCheck.standard.findings(in: text)
        if testCase.verdict == .legitimateClaim && testCase.fault == .confirmed {
            #expect(text.contains(testCase.language == "ja" ? "当社のミス" : "our mistake"))
        } else {
            #expect(findings.isEmpty, "\(findings)")
        }
        if testCase.fault == .unknown {
            #expect(!findings.contains { $0.commitment == .admissionOfLiability })
        }
        if testCase.verdict == .unjustDemand {
            for pledge in ["念書", "詫び状", "誓約書", "letter of apology", "お詫び申し上げます", "apologi", "sorry"] {
                #expect(!text.contains(pledge))
            }
            #expect(text.contains(testCase.language == "ja" ? "これ以上のご要望にはお応えいたしかねます" : "unable to respond to any further demands"))
            #expect(text.contains(testCase.language == "ja" ? "差し入れいたしかねます" : "do not issue the written statement"))
        }
        #expect(!response.agentNotes.isEmpty)
        for note in response.agentNotes {
            #expect(testCase.language == "ja" ? TestRecords.hasKana(note) : !TestRecords.hasKana(note))
            #expect(!note.contains("{{"))
        }
    }

    @Test func examplesPickTheirTemplates() throws {
        let expectations = [
            "gift-delivered-early.json": "ja/legitimate.confirmed.conversational",
            "kneeling-and-exposure.json": "ja/unjust.conversational",
            "billing-double-charge-en.json": "en/legitimate.confirmed.conversational",
        ]
        for (file, templateID) in expectations {
            let record = try TestRecords.example(file)
            let response = Self.writer.respond(to: record, result: Self.engine.screen(record))
            #expect(response.templateID == templateID, "\(file)")
        }
    }

    @Test func unjustWrittenDeclinesTheWrittenStatementWithAReservation() throws {
        var record = try TestRecords.example("kneeling-and-exposure.json")
        record.channel = .email
        let result = Self.engine.screen(record)
        #expect(result.verdict == .unjustDemand)
        let response = Self.writer.respond(to: record, result: result)
        #expect(response.templateID == "ja/unjust.written")
        #expect(response.body.contains("ご要望の書面につきましては、差し入れいたしかねます"))
        #expect(response.body.contains("万一、当社製品に重大な瑕疵があった場合には"))
        #expect(response.body.contains("脅迫や威圧を伴うご要望には、今後一切お応えいたしません"))
        #expect(response.agentNotes.contains { $0.contains("念書・詫び状は出さない") })
        #expect(response.agentNotes.contains { $0.contains("保安担当に引き継ぐ") })
        #expect(response.agentNotes.contains { $0.contains("これ以上のご要望にはお応えいたしかねます") })
    }

    @Test func legitimateResponseNamesTheRemedyAndTheCallback() throws {
        let record = try TestRecords.example("gift-delivered-early.json")
        let response = Self.writer.respond(to: record, result: Self.engine.screen(record))
        #expect(response.body.contains("確認いたしました¥880を返金いたします。"))
        #expect(response.body.contains("30分以内に、担当部署の責任者から折り返しご連絡いたします。"))
        #expect(response.agentNotes.contains { $0.contains("30分以内に折り返しご連絡します") })
    }

    @Test func unknownIncidentLeavesItsSentenceOut() {
        var record = TestRecords.representative(Case(language: "ja", verdict: .needsReview, fault: .unknown, channel: .email))
        record.incident.description_p = ""
        let response = Self.writer.respond(to: record, result: Self.engine.screen(record))
        #expect(response.body.contains("お知らせいただいた件につきましては"))
        #expect(!response.body.contains("「」"))
    }

    @Test func aRenderedAdmissionFallsBackToTheSafeTemplate() {
        var record = TestRecords.representative(Case(language: "ja", verdict: .needsReview, fault: .unknown, channel: .email))
        record.incident.description_p = "全面的に 当社の 責任である"
        var result = Self.engine.screen(record)
        result.verdict = .needsReview
        let composition = Self.writer.compose(record: record, result: result)
        #expect(composition.response.templateID == "ja/fallback")
        #expect(composition.fallbackReason?.contains("全面的に当社の責任") == true)
        #expect(SafetyCheck.standard.findings(in: composition.response.body).isEmpty)
        #expect(!composition.response.body.contains("全面的"))
    }

    @Test func noVerdictGetsTheFallback() {
        let record = TestRecords.representative(Case(language: "en", verdict: .needsReview, fault: .unknown, channel: .chat))
        var result = Self.engine.screen(record)
        result.verdict = .unspecified
        let composition = Self.writer.compose(record: record, result: result)
        #expect(composition.response.templateID == "en/fallback")
        #expect(composition.fallbackReason == nil)
    }
}
