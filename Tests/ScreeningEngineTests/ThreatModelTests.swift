import DemandScreenAPI
import Foundation
import Morphology
import ScreeningEngine
import Testing

/// The threat model: its features, training, file format, and how the engine raises its signal.
@Suite struct ThreatModelTests {
    static let analyzer = try! TextAnalyzer.shared()

    static func features(_ text: String) -> [UInt64] {
        ContactFeatures.of(text, analyzer: analyzer).sorted()
    }

    /// A model trained on a few sentences: the blue-parcel ones are "threats", the green-parcel
    /// ones "coercion" (words no pattern knows), the others neither.
    static func toyModel() -> ThreatModel {
        let threats = ["the parcel is blue", "a blue parcel again", "blue parcel, blue box"]
        let coercion = ["the parcel is green", "a green parcel again", "green parcel, green box"]
        let others = ["the parcel is late", "a late parcel again", "my box is late", "the box arrived broken"]
        let examples =
            threats.map { ThreatModelTrainer.Example(features: features($0), violence: true, exposure: false, coercion: false) }
            + coercion.map { ThreatModelTrainer.Example(features: features($0), violence: false, exposure: false, coercion: true) }
            + others.map { ThreatModelTrainer.Example(features: features($0), violence: false, exposure: false, coercion: false) }
        return ThreatModelTrainer.train(
            examples, trainedOn: .init(contacts: examples.count, threats: threats.count, coercion: coercion.count, fingerprint: "toy"))
    }

    @Test func featuresAreWordsAndAdjacentPairsMeetingTheirOtherSpellings() {
        // Kana and katakana meet each other through the base form; conjugations meet their lemma.
        #expect(Set(Self.features("ころす")) == Set(Self.features("コロス")))
        let killed = Set(Self.features("kills")).intersection(Self.features("killing"))
        #expect(!killed.isEmpty)
        // A pair is a feature of its own: the same words in another order differ.
        #expect(Set(Self.features("blue parcel")) != Set(Self.features("parcel blue")))
        #expect(Set(Self.features("blue parcel")).isSuperset(of: Self.features("blue")))
        // A symbol breaks a pair: "blue. parcel" has the two words and no pair.
        #expect(Self.features("blue. parcel").count == 2)
        // Japanese words also give their characters in pairs, katakana as hiragana: a slang form
        // shares ぼこ with ぼこぼこ however MeCab splits it.
        #expect(!Set(Self.features("ボコるぞ")).isDisjoint(with: Self.features("ぼこぼこ")))
        // Someone else's words, in quotation marks, are not the caller's.
        #expect(Set(Self.features("配達員に「次は殺すぞ」って言われた")).isDisjoint(with: Self.features("殺すぞ")))
        #expect(Self.features(#"he said "blue parcel""#) == Self.features("he said"))
    }

    @Test func theTrainerSeparatesItsExamplesAndGivesOneModelForOneTraining() throws {
        let model = Self.toyModel()
        #expect(model.scores(Self.features("the blue parcel")).threat > 0.5)
        #expect(model.scores(Self.features("the late parcel")).threat < 0.5)
        // Only violence was labeled: the model finds violence likelier than exposure.
        let scores = model.scores(Self.features("blue box"))
        #expect(scores.violence > scores.exposure)
        #expect(try Self.toyModel().json() == model.json())
    }

    @Test func aModelReadsBackAsWrittenAndABrokenFileIsNamed() throws {
        let model = Self.toyModel()
        let read = try ThreatModel(json: try model.json())
        #expect(read.trainedOn == model.trainedOn)
        for text in [Self.features("a blue parcel"), Self.features("a green parcel")] {
            let (written, readBack) = (model.scores(text), read.scores(text))
            #expect(
                [readBack.threat, readBack.violence, readBack.exposure, readBack.coercion]
                    == [written.threat, written.violence, written.exposure, written.coercion])
        }

        func refusal(_ json: String) -> String {
            do {
                _ = try ThreatModel(json: Data(json.utf8))
                return "accepted"
            } catch {
                return error.description
            }
        }
        let trainedOn = #""trainedOn":{"contacts":1,"threats":1,"fingerprint":"x"}"#
        let features = #""features":"FNV-1a (53 bits) of token keys, adjacent key pairs and adjacent kana and kanji""#
        #expect(refusal("[]").hasPrefix("not a threat model"))
        // Format 1 (three outputs, no coercion) is an older release's: trained again, not read.
        #expect(refusal(#"{"format":1,\#(features),\#(trainedOn),"bias":[0,0,0],"weights":{}}"#).contains("format 1"))
        #expect(refusal(#"{"format":2,\#(features),\#(trainedOn),"bias":[0,0,0],"weights":{}}"#).contains("bias must have 4 values"))
        #expect(
            refusal(#"{"format":2,\#(features),\#(trainedOn),"bias":[0,0,0,0],"weights":{"x1":[1,2,3,4]}}"#).contains(#"weights["x1"]"#))
        #expect(refusal(#"{"format":2,\#(features),\#(trainedOn),"bias":[0,0,0,0],"weights":{"12":[1,2,3]}}"#).contains(#"weights["12"]"#))
        #expect(
            refusal(#"{"format":2,\#(features),\#(trainedOn),"bias":[0,0,0,0],"weights":{"+12":[1,2,3,4]}}"#).contains(#"weights["+12"]"#))
        let otherFeatures = #""features":"character trigrams""#
        #expect(refusal(#"{"format":2,\#(otherFeatures),\#(trainedOn),"bias":[0,0,0,0],"weights":{}}"#).contains("character trigrams"))
    }

    static func policy(_ section: String?) throws -> ScreeningPolicy {
        // The built-in section, whatever its probabilities, gives way to `section`.
        var yaml = ScreeningPolicy.builtInYAML().replacingOccurrences(
            of: #"threatModel:\n(  [a-zA-Z]+: [0-9.]+\n)+"#, with: section ?? "", options: .regularExpression)
        if section?.contains("confirm") != true {
            yaml = yaml.replacingOccurrences(of: "confirmedByModel: true, ", with: "")
                .replacingOccurrences(of: #"  - \{id: [^,]+, hint: [^\n]+\n"#, with: "", options: .regularExpression)
        }
        return try ScreeningPolicy(yaml: yaml)
    }

    @Test func theEngineRaisesTheModelsThreatWherePatternsFoundNone() throws {
        let blue = record(["The parcel came.", "And it is a blue parcel, blue box too."], demands: [(.demandReplacement, nil)])
        let medium = ScreeningEngine(
            policy: try Self.policy("threatModel:\n  medium: 0.6\n"), analyzer: Self.analyzer, threatModel: Self.toyModel())
        let result = medium.screen(blue)
        let signal = try #require(result.signals.first { $0.kind == .signalThreatViolence })
        #expect(signal.severity == .medium)
        #expect(signal.evidence.count == 1)
        // The evidence is the sentence that weighs most in the utterance that weighs most, with the
        // probability; its range is in the caller's scalars, its excerpt that range's text.
        #expect(signal.evidence[0].utteranceIndex == 1)
        #expect(Self.text(of: signal.evidence[0], in: blue) == signal.evidence[0].excerpt)
        #expect(signal.evidence[0].excerpt == "And it is a blue parcel, blue box too.", "\(signal.evidence[0])")
        let sentences = record(["The parcel came. It is a blue parcel, blue box! Thanks for asking."])
        let sentence = try #require(medium.screen(sentences).signals.first { $0.kind == .signalThreatViolence }?.evidence.first)
        #expect(sentence.excerpt == "It is a blue parcel, blue box!", "\(sentence)")
        #expect(signal.evidence[0].rule.hasPrefix("model.threat p=0."))
        #expect(result.verdict == .needsReview)
        // A probability is no mark on a person: the contact raises no risk flag on its claimant.
        #expect(HistoryWindows.flags(raisedBy: result).isEmpty)

        // Scalars, not characters: 👍🏽 is one character of two scalars. A sentence longer than the
        // evidence's limit gives the part of it around its heaviest word.
        let prefix = String(repeating: "👍🏽あ", count: 70) + " the "
        let long = record([prefix + "blue parcel, blue box and " + String(repeating: "more words ", count: 40)])
        let far = try #require(medium.screen(long).signals.first { $0.kind == .signalThreatViolence }?.evidence.first)
        let blueAt = UInt32(prefix.unicodeScalars.count)
        #expect(far.start <= blueAt && far.end > blueAt + 4, "\(far)")
        // About the limit, and whole characters: no skin tone cut from its hand.
        #expect((160...162).contains(far.end - far.start), "\(far)")
        #expect(far.excerpt.unicodeScalars.first?.properties.isEmojiModifier == false, "\(far)")
        #expect(Self.text(of: far, in: long) == far.excerpt)
        // Sentence marks at the end make no empty sentence to point at.
        let marks = try #require(medium.screen(record(["A blue parcel, blue box!!! \n。"])).signals.first?.evidence.first)
        #expect(marks.excerpt == "A blue parcel, blue box!", "\(marks)")

        let high = ScreeningEngine(
            policy: try Self.policy("threatModel:\n  medium: 0.6\n  high: 0.6\n"), analyzer: Self.analyzer, threatModel: Self.toyModel())
        #expect(high.screen(blue).signals.first { $0.kind == .signalThreatViolence }?.severity == .high)
        #expect(high.screen(blue).verdict == .unjustDemand)
        // A victim telling what was said to them reads as menace too: where the sentence that weighs
        // most is someone else's words (a reported clause, reported.en.*), it stays SEVERITY_MEDIUM.
        let told = record(["The parcel came.", "Your driver told me, blue parcel, blue box too."], demands: [(.demandReplacement, nil)])
        let reported = try #require(high.screen(told).signals.first { $0.kind == .signalThreatViolence })
        #expect(reported.severity == .medium, "\(reported)")
        #expect(reported.evidence.first?.excerpt == "Your driver told me, blue parcel, blue box too.")
        #expect(high.screen(told).verdict == .needsReview)
        // The caller's own words after a report are the caller's: what weighs is outside the clause.
        let own = record(["The parcel came.", "Your driver told me, no way, so a blue parcel, blue box too."])
        #expect(high.screen(own).signals.first { $0.kind == .signalThreatViolence }?.severity == .high, "\(high.screen(own).signals)")
        // `highOwnWords` raises it from a lower probability where the caller reports no one's words
        // anywhere in the contact; a reporting cue in any utterance keeps the policy's `high`.
        let ownWords = ScreeningEngine(
            policy: try Self.policy("threatModel:\n  medium: 0.6\n  high: 0.999\n  highOwnWords: 0.6\n"), analyzer: Self.analyzer,
            threatModel: Self.toyModel())
        #expect(ownWords.screen(blue).signals.first { $0.kind == .signalThreatViolence }?.severity == .high)
        #expect(ownWords.screen(blue).verdict == .unjustDemand)
        let elsewhere = record(["The driver said it came.", "A blue parcel, blue box too."])
        #expect(ownWords.screen(elsewhere).signals.first { $0.kind == .signalThreatViolence }?.severity == .medium)
        let strict = ScreeningEngine(
            policy: try Self.policy("threatModel:\n  medium: 0.6\n  high: 0.999\n"), analyzer: Self.analyzer, threatModel: Self.toyModel())
        #expect(strict.screen(blue).signals.first { $0.kind == .signalThreatViolence }?.severity == .medium)
        // A phrase that raised the kind at SEVERITY_MEDIUM ("or else") does not keep the model from
        // raising it to SEVERITY_HIGH: more menace never makes a milder verdict.
        let orElse = high.screen(record(["The parcel came.", "A blue parcel, blue box, or else."]))
        let raised = try #require(orElse.signals.first { $0.kind == .signalThreatViolence })
        #expect(raised.severity == .high, "\(raised)")
        #expect(raised.evidence.contains { ThreatModel.reads($0) } && raised.evidence.contains { !ThreatModel.reads($0) }, "\(raised)")
        #expect(orElse.verdict == .unjustDemand)

        // Without the policy's section the model is left out; a late parcel does not reach it.
        let off = ScreeningEngine(policy: try Self.policy(nil), analyzer: Self.analyzer, threatModel: Self.toyModel())
        #expect(off.screen(blue).signals.isEmpty)
        #expect(medium.screen(record(["The parcel is late again."])).signals.isEmpty)

        // Where a token pattern found a threat, the model adds nothing to it.
        let both = medium.screen(record(["blue parcel, blue box", "お前の家は知ってるからな、夜道に気をつけろよ"]))
        let threat = try #require(both.signals.first { $0.kind == .signalThreatViolence })
        #expect(!threat.evidence.contains { $0.rule.hasPrefix("model.") })
        #expect(HistoryWindows.flags(raisedBy: both).contains { $0.kind == .signalThreatViolence })
    }

    /// A broad pattern marked `confirmedByModel` counts only where the model finds a threat
    /// likely enough; a threat the patterns raised where the model finds one most unlikely goes to a
    /// supervisor at SEVERITY_MEDIUM, with no flag on the claimant.
    @Test func theModelConfirmsBroadPatternsAndDoubtsUnlikelyThreats() throws {
        let engine = ScreeningEngine(
            policy: try Self.policy("threatModel:\n  medium: 0.99\n  confirm: 0.5\n  doubt: 0.5\n"), analyzer: Self.analyzer,
            threatModel: Self.toyModel())
        // exposure.en.channel-then-leverage: a channel, then a condition within 25 characters.
        let broad = "the parcel on reddit, unless"
        let blue = engine.screen(record(["A blue parcel, blue box, blue parcel.", broad]))
        let confirmed = try #require(blue.signals.first { $0.kind == .signalThreatExposure }, "\(blue.signals)")
        #expect(confirmed.evidence.map(\.rule).contains { $0.hasPrefix("exposure.en.channel-then-leverage + model.threat p=0.") })
        let late = engine.screen(record(["The parcel is late again.", broad]))
        #expect(!late.signals.contains { $0.kind == .signalThreatExposure }, "\(late.signals)")
        // A broad pattern overlapping one that needs no confirmation does not take it down with it:
        // exposure.en.press ("I'll tell the papers") stands where channel-then-leverage falls.
        let press = engine.screen(record(["The parcel is late again.", "I'll tell the papers about this unless you refund."]))
        let pressed = try #require(press.signals.first { $0.kind == .signalThreatExposure }, "\(press.signals)")
        #expect(pressed.evidence.count == 1 && pressed.evidence[0].rule.hasPrefix("exposure.en.press"), "\(pressed.evidence)")

        // A two-part pattern marked so awaits the model too, whether its parts meet in one utterance
        // or over two.
        let yaml = try #require(
            ScreeningPolicy.builtInYAML().replacingOccurrences(
                of: #"threatModel:\n(  [a-zA-Z]+: [0-9.]+\n)+"#, with: "threatModel:\n  medium: 0.99\n  confirm: 0.5\n",
                options: .regularExpression
            ).replacingOccurrences(
                of: "{id: threat.en.lurking-then-weapon,", with: "{id: threat.en.lurking-then-weapon, confirmedByModel: true,"))
        let lurking = ScreeningEngine(policy: try ScreeningPolicy(yaml: yaml), analyzer: Self.analyzer, threatModel: Self.toyModel())
        let lurkingLines = [
            ["The parcel is late again. I'll be waiting outside the store with a bat."],
            ["I'll be waiting outside the store.", "With a bat."],
        ]
        for lines in lurkingLines {
            let unconfirmed = lurking.screen(record(["The parcel is late again."] + lines))
            #expect(!unconfirmed.signals.contains { $0.kind == .signalThreatViolence }, "\(lines): \(unconfirmed.signals)")
            let confirmedLurking = lurking.screen(record(["A blue parcel, blue box, blue parcel."] + lines))
            let rules = confirmedLurking.signals.first { $0.kind == .signalThreatViolence }?.evidence.map(\.rule) ?? []
            #expect(rules.contains { $0.hasPrefix("threat.en.lurking-then-weapon + model.threat") }, "\(lines): \(rules)")
        }

        // A threat of violence by the patterns, where the model reads none: doubted.
        let doubted = engine.screen(record(["The parcel is late again. I will kill you."], demands: [(.demandReplacement, nil)]))
        let violence = try #require(doubted.signals.first { $0.kind == .signalThreatViolence })
        #expect(violence.severity == .medium)
        #expect(violence.evidence.allSatisfy { $0.rule.contains(", doubted by model.threat p=0.") }, "\(violence.evidence)")
        #expect(doubted.verdict == .needsReview)
        #expect(HistoryWindows.flags(raisedBy: doubted).isEmpty)
        #expect(!doubted.claimant.activeFlags.contains(.signalThreatViolence), "\(doubted.claimant.activeFlags)")
        // Where the model reads one too, the patterns' threat stands.
        let believed = engine.screen(record(["A blue parcel, blue box. I will kill you."], demands: [(.demandReplacement, nil)]))
        #expect(believed.signals.first { $0.kind == .signalThreatViolence }?.severity == .critical)
        #expect(believed.verdict == .unjustDemand)
        #expect(HistoryWindows.flags(raisedBy: believed).contains { $0.kind == .signalThreatViolence })
        #expect(believed.claimant.activeFlags.contains(.signalThreatViolence))
    }

    /// Coercion the patterns raised where the model reads none goes to a supervisor the same way;
    /// coercion the demands name (a kneeling apology) is the agent's record and stands.
    /// Cues of an insinuated threat (patterns with a `hint` group) count only where cues of two
    /// groups meet in the caller's words and the model finds a threat likely.
    @Test func cuesOfTwoGroupsMakeAThreatWhereTheModelFindsOneLikely() throws {
        let engine = ScreeningEngine(
            policy: try Self.policy("threatModel:\n  medium: 0.99\n  confirm: 0.5\n"), analyzer: Self.analyzer,
            threatModel: Self.toyModel())
        // hint.en.routine-theirs (knowledge) and hint.en.dark-alone (menace), in two utterances.
        let (blue, routine, dark) = (
            "A blue parcel, blue box, blue parcel.", "He parks out back every morning.", "It is a dark car park at night, mind."
        )
        func cues(_ result: ScreeningResult) -> [String] {
            result.signals.flatMap(\.evidence).map(\.rule).filter { $0.hasPrefix("hint.") }
        }
        let both = engine.screen(record([blue, routine, dark]))
        let threat = try #require(both.signals.first { $0.kind == .signalThreatViolence }, "\(both.signals)")
        #expect(threat.severity == .high)
        #expect(Set(cues(both).map { $0.components(separatedBy: " + ")[0] }) == ["hint.en.routine-theirs", "hint.en.dark-alone"])
        #expect(cues(both).allSatisfy { $0.contains(" + model.threat p=0.") }, "\(cues(both))")
        #expect(both.verdict == .unjustDemand)
        // One group alone, two where the model finds no threat likely, or a cue in someone else's
        // words raise nothing.
        #expect(cues(engine.screen(record([blue, routine]))).isEmpty)
        #expect(cues(engine.screen(record(["The parcel is late again.", routine, dark]))).isEmpty)
        #expect(cues(engine.screen(record([blue, routine, "The driver said, it is a dark car park at night."]))).isEmpty)
        // Two groups read in the same words are one cue ("walk home alone": a routine and solitude);
        // the same groups in words apart are two.
        #expect(cues(engine.screen(record([blue, "You walk home alone every night, right?"]))).isEmpty)
        let apart = cues(engine.screen(record([blue, "You walk to your car every night, right?", "You're on your own then."])))
        #expect(Set(apart.map { $0.components(separatedBy: " + ")[0] }) == ["hint.en.routine-yours", "hint.en.on-their-own"], "\(apart)")
        let oneUtterance = cues(engine.screen(record([blue, "You walk to your car every night, right? You're on your own then."])))
        #expect(oneUtterance.count == 2, "\(oneUtterance)")
        // Without threatModel.confirm a policy with cues is refused, naming the first cue.
        let unconfirmed = ScreeningPolicy.builtInYAML().replacingOccurrences(
            of: #"threatModel:\n(  [a-zA-Z]+: [0-9.]+\n)+"#, with: "threatModel:\n  medium: 0.99\n", options: .regularExpression
        ).replacingOccurrences(of: "confirmedByModel: true, ", with: "")
        let error = try #require(throws: PolicyError.self) { try ScreeningPolicy(yaml: unconfirmed) }
        #expect("\(error)".contains("'.hint): needs the policy's threatModel.confirm"), "\(error)")
    }

    @Test func theModelDoubtsUnlikelyCoercion() throws {
        let engine = ScreeningEngine(
            policy: try Self.policy("threatModel:\n  medium: 0.99\n  doubtCoercion: 0.5\n"), analyzer: Self.analyzer,
            threatModel: Self.toyModel())
        let doubted = engine.screen(
            record(["The parcel is late again. I'm not leaving until you refund me."], demands: [(.demandRefund, nil)]))
        let coercion = try #require(doubted.signals.first { $0.kind == .signalCoercion }, "\(doubted.signals)")
        #expect(coercion.severity == .medium)
        #expect(coercion.evidence.allSatisfy { $0.rule.contains(", doubted by model.coercion p=0.") }, "\(coercion.evidence)")
        #expect(doubted.verdict == .needsReview)
        #expect(HistoryWindows.flags(raisedBy: doubted).isEmpty)
        // The coercion output, not the threat one, decides: a "threat" reading does not vouch for coercion.
        let threatOnly = engine.screen(
            record(["A blue parcel, blue box. I'm not leaving until you refund me."], demands: [(.demandRefund, nil)]))
        #expect(threatOnly.signals.first { $0.kind == .signalCoercion }?.severity == .medium, "\(threatOnly.signals)")
        let believed = engine.screen(
            record(["A green parcel, green box. I'm not leaving until you refund me."], demands: [(.demandRefund, nil)]))
        #expect(believed.signals.first { $0.kind == .signalCoercion }?.severity == .high)
        #expect(believed.verdict == .unjustDemand)
        // A model trained with no coercion labels has learned nothing of it and doubts nothing.
        let untaught = ThreatModelTrainer.train(
            [
                .init(features: Self.features("the parcel is blue"), violence: true, exposure: false, coercion: false),
                .init(features: Self.features("the parcel is late"), violence: false, exposure: false, coercion: false),
            ], trainedOn: .init(contacts: 2, threats: 1, coercion: 0, fingerprint: "untaught"))
        let withUntaught = ScreeningEngine(
            policy: try Self.policy("threatModel:\n  medium: 0.99\n  doubtCoercion: 0.5\n"), analyzer: Self.analyzer,
            threatModel: untaught)
        let kept = withUntaught.screen(
            record(["The parcel is late again. I'm not leaving until you refund me."], demands: [(.demandRefund, nil)]))
        #expect(kept.signals.first { $0.kind == .signalCoercion }?.severity == .high, "\(kept.signals)")
        let kneeling = engine.screen(record(["The parcel is late again."], demands: [(.demandKneelingApology, nil)]))
        #expect(kneeling.signals.first { $0.kind == .signalCoercion }?.severity == .high, "\(kneeling.signals)")
        #expect(!(kneeling.signals.first { $0.kind == .signalCoercion }?.evidence.contains { $0.rule.contains("doubted") } ?? true))
        // Beyond a half the threshold would doubt what the model reads as likely as not.
        #expect(throws: PolicyError.self) { try Self.policy("threatModel:\n  medium: 0.99\n  doubtCoercion: 0.6\n") }
    }

    /// The caller's text that an evidence's scalar range covers.
    static func text(of evidence: Evidence, in record: DemandRecord) -> String {
        let scalars = Array(record.utterances[Int(evidence.utteranceIndex)].text.unicodeScalars)
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[Int(evidence.start)..<Int(evidence.end)])
        return String(text)
    }

    /// The features a model was trained on are these hashes: a change to the tokens, their keys or
    /// the hashing would make every shipped or site model read other words, so it must be made
    /// on purpose (a new `features` description and a retrained model).
    @Test func theFeatureHashesStayTheSame() {
        // 殺す, and its characters 殺 and す as a pair.
        #expect(ContactFeatures.of("殺す", analyzer: Self.analyzer) == [2_906_263_044_015_304, 8_642_148_915_669_060])
        #expect(Self.features("kill you") == [417_923_833_176_412, 471_426_746_070_909, 6_054_835_000_504_729])
    }

    /// Quotation marks take their words out of the caller's own, however many there are.
    @Test func manyQuotationsLeaveOnlyTheWordsBetweenThem() {
        let text = String(repeating: "\"blue\" late ", count: 2_000)
        #expect(Set(Self.features(text)) == Set(Self.features("late")))
    }
}
