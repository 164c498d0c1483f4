import DemandScreenAPI
import Foundation
import ResponseTemplates
import ScreeningEngine
import Testing

/// Loading, overriding, refusing and reloading template sets.
@Suite struct TemplateSetTests {
    /// A fresh operator folder with `files` (path in the folder → text).
    static func operatorFolder(_ files: [String: String]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID().uuidString)")
        for (path, text) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return folder.path
    }

    static func refusal(_ files: [String: String]) throws -> TemplateSetError {
        let folder = try operatorFolder(files)
        let error = #expect(throws: TemplateSetError.self) { try ResponseTemplateSet(overrideDirectory: folder) }
        return try #require(error)
    }

    @Test func theBuiltInSetHasEveryRequiredTemplate() {
        let set = ResponseTemplateSet.builtIn()
        for language in ["ja", "en"] {
            for verdict in TemplateName.VerdictPart.allCases {
                for family in TemplateName.Family.allCases {
                    #expect(set.sources["\(language)/\(verdict.rawValue).\(family.rawValue)"] != nil)
                }
            }
            #expect(set.sources["\(language)/fallback"] != nil)
            #expect(set.sources["\(language)/legitimate.confirmed.written"] != nil)
        }
        #expect(set.commitments == Commitments(callbackMinutes: 30, replyBusinessDays: 2))
    }

    @Test func hiddenFilesAndFoldersAreNotTemplates() throws {
        // A ConfigMap mounted as a folder: the files live in a hidden, timestamped folder.
        let folder = try Self.operatorFolder([
            "..2026_12_06_07_00_00.123/ja/legitimate.written.mustache": "件名\n本文\n",
            "..2026_12_06_07_00_00.123/notes.mustache": "not a template name",
            ".editor-backup.mustache": "not a template name",
            "ja/legitimate.partial.written.mustache": "件名\n一部について確認いたしました。\n",
        ])
        let set = try ResponseTemplateSet(overrideDirectory: folder)
        #expect(set.sources["ja/legitimate.partial.written"]?.hasSuffix("/ja/legitimate.partial.written.mustache") == true)
        #expect(set.sources["ja/legitimate.written"]?.contains("..2026") == false)
    }

    @Test func faultSpecificFallsBackToTheVerdictsGenericTemplate() {
        let set = ResponseTemplateSet.builtIn()
        #expect(
            set.template(language: "ja", verdict: .legitimate, fault: .confirmed, family: .written).id == "ja/legitimate.confirmed.written")
        #expect(set.template(language: "ja", verdict: .legitimate, fault: .partial, family: .written).id == "ja/legitimate.written")
        #expect(
            set.template(language: "en", verdict: .unjust, fault: .confirmed, family: .conversational).id
                == "en/unjust.confirmed.conversational")
        #expect(set.template(language: "en", verdict: .unjust, fault: .none, family: .conversational).id == "en/unjust.conversational")
        #expect(set.template(language: "fr", verdict: .needsReview, fault: .unknown, family: .written).id == "en/needs-review.written")
        #expect(set.template(language: "ja", verdict: nil, fault: .unknown, family: .written).id == "ja/fallback")
    }

    @Test func anOperatorAdmissionForAnUnconfirmedFaultIsRefused() throws {
        let ja = try Self.refusal(["ja/legitimate.written.mustache": "件名\n本件は全面的に当社の責任です。\n"])
        #expect(ja.file.hasSuffix("/ja/legitimate.written.mustache"))
        #expect(ja.description.contains("全面的に当社の責任"))

        let en = try Self.refusal([
            "en/legitimate.unknown.written.mustache": "Subject\nWe accept full responsibility and will compensate you.\n"
        ])
        #expect(en.file.hasSuffix("/en/legitimate.unknown.written.mustache"))
        #expect(en.description.contains("we accept full responsibility"))

        let partial = try Self.refusal(["en/legitimate.partial.conversational.mustache": "Subject\nWe will compensate you in full.\n"])
        #expect(partial.description.contains("we will compensate"))
    }

    @Test func spacingAndWidthTricksDoNotPass() throws {
        let spaced = try Self.refusal(["ja/needs-review.written.mustache": "件名\n全面的に　当社の  責任 です。\n"])
        #expect(spaced.description.contains("全面的に当社の責任"))
        let wide = try Self.refusal(["en/unjust.written.mustache": "Subject\nＷＥ  ＡＣＣＥＰＴ FULL\u{200B}Responsibility.\n"])
        #expect(wide.description.contains("we accept full responsibility"))
        let pledge = try Self.refusal(["ja/unjust.conversational.mustache": "件名\n念　書をお送りします。\n"])
        #expect(pledge.description.contains("念書"))
    }

    @Test func aConfirmedFaultTemplateMayAdmitAndReplacesOnlyItsFile() throws {
        let folder = try Self.operatorFolder([
            "ja/legitimate.confirmed.written.mustache": "お詫び\n{{#incident}}「{{incident}}」は{{/incident}}当社のミスでした。申し訳ございません。\n",
            "README.txt": "ignored",
        ])
        let set = try ResponseTemplateSet(overrideDirectory: folder)
        #expect(set.sources["ja/legitimate.confirmed.written"] == "\(folder)/ja/legitimate.confirmed.written.mustache")
        #expect(set.sources["ja/legitimate.written"] == "built-in ja/legitimate.written.mustache")

        var record = try TestRecords.example("gift-delivered-early.json")
        record.channel = .email
        let response = ResponseWriter(templates: set).respond(to: record, result: ScreeningEngine(policy: .builtIn()).screen(record))
        #expect(response.templateID == "ja/legitimate.confirmed.written")
        #expect(response.subject == "お詫び")
        #expect(response.body == "「期日指定の贈答品が指定日の前日に配達された」は当社のミスでした。申し訳ございません。")
    }

    @Test func templatesThatCannotBeCheckedAreRefused() throws {
        let unknownKey = try Self.refusal(["ja/unjust.written.mustache": "件名\n{{incidnet}}\n"])
        #expect(unknownKey.description.contains("unknown key 'incidnet'"))
        let bare = try Self.refusal(["en/needs-review.written.mustache": "Subject\nAbout {{incident}}.\n"])
        #expect(bare.description.contains("{{incident}} is used outside {{#incident}}"))
        let partial = try Self.refusal(["en/needs-review.written.mustache": "Subject\n{{> en/fallback}}\n"])
        #expect(partial.description.contains("partials"))
        let taggedFallback = try Self.refusal(["ja/fallback.mustache": "件名\n{{callbackMinutes}}分以内にご連絡します。\n"])
        #expect(taggedFallback.description.contains("fallback may contain only text and comments"))
        let badName = try Self.refusal(["ja/legitimate.confirmd.written.mustache": "件名\n本文\n"])
        #expect(badName.file.hasSuffix("ja/legitimate.confirmd.written.mustache"))
        let unclosed = try Self.refusal(["ja/unjust.written.mustache": "件名\n{{#threats}}本文\n"])
        #expect(unclosed.file.hasSuffix("ja/unjust.written.mustache"))
        let incomplete = try Self.refusal(["ko/unjust.written.mustache": "제목\n본문\n"])
        #expect(incomplete.description.contains("missing"))
    }

    @Test func commentsMayNameWhatTheTextMustNot() throws {
        let folder = try Self.operatorFolder([
            "ja/unjust.written.mustache": "{{! 念書は出さない: never issue a written pledge }}\n件名\nお応えいたしかねます。\n"
        ])
        _ = try ResponseTemplateSet(overrideDirectory: folder)
    }

    @Test func anOperatorResponsesFileChangesOnlyWhatItSets() throws {
        let folder = try Self.operatorFolder([
            "responses.yaml": """
            commitments:
              callbackMinutes: 15
            notes:
              - id: record
                text: {ja: 通話を録音する。, en: Record the call.}
              - id: site-rule
                verdicts: [unjust]
                text: {ja: 店長に報告する。, en: Tell the store manager.}
            """
        ])
        let set = try ResponseTemplateSet(overrideDirectory: folder)
        #expect(set.commitments == Commitments(callbackMinutes: 15, replyBusinessDays: 2))
        let record = try TestRecords.example("kneeling-and-exposure.json")
        let response = ResponseWriter(templates: set).respond(to: record, result: ScreeningEngine(policy: .builtIn()).screen(record))
        #expect(response.agentNotes.contains("通話を録音する。"))
        #expect(!response.agentNotes.contains { $0.hasPrefix("やり取りを記録し") })
        #expect(response.agentNotes.last == "店長に報告する。")

        let badSignal = try Self.refusal(["responses.yaml": "notes:\n  - id: x\n    signals: [SIGNAL_NOPE]\n    text: {en: x}\n"])
        #expect(badSignal.description.contains("SIGNAL_NOPE"))
    }

    @Test func aRefusedReloadKeepsTheSetInForce() throws {
        let good = try Self.operatorFolder(["en/unjust.conversational.mustache": "Our answer\nWe cannot meet these demands.\n"])
        let holder = ResponseTemplateHolder(try ResponseTemplateSet(overrideDirectory: good))
        let bad = try Self.operatorFolder(["en/unjust.conversational.mustache": "Our answer\nWe admit liability.\n"])

        let error = #expect(throws: TemplateSetError.self) { try holder.reload(overrideDirectory: bad) }
        #expect(error?.description.contains("we admit liability") == true)
        #expect(holder.current.overrideDirectory == good)

        var record = try TestRecords.example("billing-double-charge-en.json")
        var result = ScreeningEngine(policy: .builtIn()).screen(record)
        result.verdict = .unjustDemand
        record.assessment.companyFault = .unknown
        #expect(holder.writer.respond(to: record, result: result).body == "We cannot meet these demands.")

        try holder.reload(overrideDirectory: nil)
        #expect(holder.current.overrideDirectory == nil)
        #expect(holder.writer.respond(to: record, result: result).templateID == "en/unjust.conversational")
        #expect(holder.writer.respond(to: record, result: result).body != "We cannot meet these demands.")
    }

    @Test func normalisationFoldsWidthCaseAndSpacing() {
        let check = SafetyCheck.standard
        #expect(check.findings(in: "We’ll  COMPENSATE you").map(\.phrase) == ["we'll compensate"])
        #expect(check.findings(in: "二度と　いたしません").map(\.phrase) == ["二度といたしません"])
        #expect(check.findings(in: "ご要望の書面につきましては、差し入れいたしかねます").isEmpty)
    }
}

/// Checks that see through tags and into the notes.
@Suite struct TemplateCheckTests {
    @Test func aPhraseSplitByATagIsRefused() throws {
        let error = try TemplateSetTests.refusal(["ja/unjust.written.mustache": "件名\n全面的に{{#threats}}{{/threats}}当社の責任です。\n"])
        #expect(error.description.contains("全面的に当社の責任"))
    }

    @Test func aNoteWithAnUnknownKeyIsRefusedNamingItsFile() throws {
        let error = try TemplateSetTests.refusal([
            "responses.yaml": "notes:\n  - id: typo\n    text: {en: 'Call back in {{callbackMinuts}} minutes'}\n"
        ])
        #expect(error.file.hasSuffix("responses.yaml, note 'typo' (en)"))
        #expect(error.description.contains("callbackMinuts"))
    }
}
