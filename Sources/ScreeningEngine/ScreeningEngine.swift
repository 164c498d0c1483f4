public import DemandScreenAPI
import Foundation
public import Morphology

/// The screening judgment: a demand record and the claimant's history in, a verdict with its
/// criteria, signals, elements, risk and actions out. Pure and synchronous: no I/O, no clock,
/// so the daemon, `demandscreen evaluate` and the benchmarks run the same code.
public struct ScreeningEngine: Sendable {
    public let policy: ScreeningPolicy
    let matcher: PolicyMatcher
    let tokenMatcher: TokenMatcher
    /// The policy's `agentWarnings`; nil when it has none.
    let agentWarningMatcher: TokenMatcher?
    /// Weighs the caller's words when the policy sets `threatModel` thresholds; nil when it does not.
    public let threatModel: ThreatModel?

    /// Compiles the policy's phrases into one automaton and its token patterns against
    /// `analyzer`; build once per policy. `threatModel` (the built-in one unless given) is used
    /// when the policy sets its thresholds.
    public init(policy: ScreeningPolicy, analyzer: TextAnalyzer, threatModel: ThreatModel? = nil) {
        self.policy = policy
        self.matcher = PolicyMatcher(policy: policy)
        self.tokenMatcher = TokenMatcher(policy: policy, analyzer: analyzer)
        self.agentWarningMatcher =
            policy.agentWarnings.isEmpty ? nil : TokenMatcher(agentWarningsOf: policy, analyzer: analyzer)
        self.threatModel = policy.threatModel == nil ? nil : threatModel ?? .builtIn
    }

    /// Words of the policy's token patterns that the analyzer reads as no token, so that they can
    /// never match (`demandscreen policy check` refuses a policy with any).
    public var unreadablePatternWords: [String] {
        Array(Set(tokenMatcher.unreadableWords + (agentWarningMatcher?.unreadableWords ?? []))).sorted()
    }

    /// An engine on the process's analyzer for the default MeCab dictionary
    /// (`JapaneseAnalyzer.defaultDictionary`). A program that must say why the dictionary cannot
    /// be loaded loads it first with `TextAnalyzer.shared(dictionary:)`.
    public init(policy: ScreeningPolicy) {
        do {
            self.init(policy: policy, analyzer: try TextAnalyzer.shared())
        } catch {
            preconditionFailure("\(error)")
        }
    }

    /// Screens one record. The record should have passed `validate()`.
    public func screen(_ record: DemandRecord, history: ClaimantHistory = .firstContact) -> ScreeningResult {
        let language = Self.language(of: record)
        var findings = Findings(language: language)
        var scratch = UtteranceAnalysis.Scratch(
            longest: record.utterances.lazy.filter { $0.speaker == .customer }.map(\.text.utf8.count).max() ?? 0)
        findings.elements.reserveCapacity(record.utterances.count)

        var open: [UtteranceAnalysis.OpenPattern] = []
        var modelReading = ModelReading()
        var awaitingConfirmation: [UtteranceAnalysis.Hit] = []
        var cues: [UtteranceAnalysis.Hit] = []
        for (index, utterance) in record.utterances.enumerated() where utterance.speaker == .customer {
            let analysis = UtteranceAnalysis(
                index: index, text: utterance.text, matcher: matcher, tokenMatcher: tokenMatcher, wantsFeatures: threatModel != nil,
                open: &open, scratch: &scratch)
            if let threatModel {
                modelReading.add(analysis.features, of: index, model: threatModel)
                if !analysis.reportedSpeech.isEmpty { modelReading.reportedSpeech[index] = analysis.reportedSpeech }
                modelReading.reportsSpeech = modelReading.reportsSpeech || analysis.reportsSpeech
            }
            for hit in analysis.hits {
                if hit.hint != nil {
                    cues.append(hit)
                } else if hit.awaitsConfirmation {
                    awaitingConfirmation.append(hit)
                } else {
                    findings.add(hit.signal, hit.severity, evidence: hit.evidence)
                }
            }
            findings.demandsWrittenStatement = findings.demandsWrittenStatement || analysis.demandsWrittenStatement
            var element = UtteranceElement()
            element.utteranceIndex = UInt32(index)
            element.element = analysis.element
            findings.elements.append(element)
        }

        if let abuse = findings.signals[.signalAbusiveLanguage], abuse.severity.rawValue < Severity.high.rawValue {
            let utterances = Set(abuse.evidence.map(\.utteranceIndex)).count
            if abuse.evidence.count >= policy.sustainedAbuseHits || utterances >= policy.sustainedAbuseUtterances {
                findings.signals[.signalAbusiveLanguage]?.severity = .high
            }
        }

        let concreteDemands = record.demands.filter { $0.kind != .demandUnspecified }
        // Read before it is cleared: 誠意を見せろ beside an explanation asked is no routine question.
        let soughtSincerity = findings.signals[.signalUnclearPurpose] != nil
        // 誠意を見せろ next to a concrete demand is emphasis; without one it hides the purpose.
        if !concreteDemands.isEmpty {
            findings.signals[.signalUnclearPurpose] = nil
        } else if !record.demands.isEmpty {
            // Something is demanded but the caller will not say what: the purpose is hidden. A
            // demand with an amount says what it wants, whatever kind it was recorded as.
            let named = record.demands.contains { $0.hasAmount && $0.amount.amountMinor > 0 }
            findings.add(
                .signalUnclearPurpose, named ? .medium : .high,
                evidence: Self.fieldEvidence("demands", "DEMAND_UNSPECIFIED", record.demands[0].text))
        }
        for (kind, raised) in rules.demandSignals.sorted(by: { $0.key.rawValue < $1.key.rawValue })
        where record.demands.contains(where: { $0.kind == kind }) {
            findings.add(raised.signal, raised.severity, evidence: Self.demandEvidence(record, kind: kind))
        }
        if record.demands.contains(where: { $0.kind == .demandWrittenApology }) {
            findings.demandsWrittenStatement = true
        }
        let scores = threatModel?.scores(modelReading.features)
        addConfirmedHits(awaitingConfirmation, scores: scores, to: &findings)
        addCues(cues, scores: scores, to: &findings)
        doubtReadings(scores: scores, record: record, to: &findings)
        addModelThreat(modelReading, scores: scores, record: record, to: &findings)
        addProlongedContact(record, to: &findings)
        addRecurringIssue(history: history, to: &findings)

        let responsibility = scoreResponsibility(record.assessment.companyFault, language)
        let causation = scoreCausation(record.assessment.causation, language)
        addEscalatingMoney(record, history: history, to: &findings)
        let proportionality = scoreProportionality(record, concreteDemands: concreteDemands, findings: &findings)
        let relevance = scoreRelevance(record, concreteDemands: concreteDemands, findings: &findings)
        // After the demands are weighed: an excessive or escalating demand makes a call no follow-up.
        addRepeatedContact(record, history: history, to: &findings)
        let conduct = scoreConduct(findings)
        let criteria = [responsibility, causation, conduct, proportionality, relevance]
        let totalWeight = criteria.reduce(0) { $0 + $1.weight }
        let legitimacy = criteria.reduce(0) { $0 + $1.score * $1.weight } / totalWeight

        let factsUnknown = record.assessment.companyFault == .unknown || record.assessment.causation == .unknown
        let credibleViolence = findings.signals[.signalThreatViolence]?.severity == .critical
        // Only answerable demands (DEMAND_UNSPECIFIED is none), no money, no 誠意, nothing menacing
        // that a broad pattern read (confirmed or not), no standing flag of high risk.
        let onlyAnswerable =
            !record.demands.isEmpty
            && record.demands.allSatisfy { policy.answerableDemands.contains($0.kind) && $0.amount.amountMinor == 0 }
            && !soughtSincerity && awaitingConfirmation.isEmpty
            && history.standingRisk.rawValue < RiskLevel.riskHigh.rawValue
        let verdict = decideVerdict(
            legitimacy: legitimacy, conduct: conduct.score, factsUnknown: factsUnknown, onlyAnswerable: onlyAnswerable,
            credibleViolence: credibleViolence, findings: findings)
        let risk = assessRisk(verdict: verdict, credibleViolence: credibleViolence, findings: findings, history: history)

        var result = ScreeningResult()
        result.recordID = record.recordID
        result.verdict = verdict
        result.riskLevel = risk
        result.legitimacyScore = (legitimacy * 1000).rounded() / 1000
        result.criteria = criteria
        result.signals = findings.orderedSignals
        result.elements = findings.elements
        result.actions = decideActions(
            verdict: verdict, risk: risk, factsUnknown: factsUnknown, credibleViolence: credibleViolence,
            record: record, concreteDemands: concreteDemands, findings: findings)
        result.policyVersion = policy.version
        result.language = language
        var claimant = ClaimantSummary()
        claimant.contacts24H = history.contacts24h + 1
        claimant.contacts30D = history.contacts30d + 1
        claimant.riskLevel = risk.raised(to: history.standingRisk)
        // This contact's part is the flags it stores (a doubted or model-only threat, a recurring
        // issue and a legitimate claim's signals are not marks on the claimant).
        let raised = HistoryWindows.flags(raisedBy: result).map(\.kind)
        claimant.activeFlags = Array(Set(history.activeFlags + raised)).sorted { $0.rawValue < $1.rawValue }
        result.claimant = claimant
        return result
    }

    /// "ja" or "en": the record's, else "ja" when the transcript or the incident description
    /// has kana or kanji, else "en".
    public static func language(of record: DemandRecord) -> String {
        if record.language == "ja" || record.language == "en" { return record.language }
        let texts = record.utterances.lazy.map(\.text) + [record.incident.description_p]
        return texts.contains(where: Kana.containsKanaOrKanji) ? "ja" : "en"
    }

    // MARK: - Signals computed from the record

    /// The caller's words as the threat model reads them: every feature once, and for the threat
    /// at all and each kind, the utterance whose words weigh most toward it, with where each of its
    /// features was read.
    struct ModelReading {
        typealias Utterance = (index: Int, weight: Double, located: [ContactFeatures.Located])
        var features: Set<UInt64> = []
        var heaviest: [ThreatModel.Output: Utterance] = [:]
        /// Per utterance, where it holds someone else's words (`UtteranceAnalysis.reportedSpeech`).
        var reportedSpeech: [Int: [Range<Int>]] = [:]
        /// Whether any customer utterance reports anyone's words (`UtteranceAnalysis.reportsSpeech`).
        var reportsSpeech = false

        mutating func add(_ utterance: [ContactFeatures.Located], of index: Int, model: ThreatModel) {
            guard !utterance.isEmpty else { return }
            var weights = SIMD4<Double>()
            for located in utterance {
                features.insert(located.feature)
                if let weight = model.weights[located.feature] { weights += SIMD4<Double>(weight) }
            }
            for output in [ThreatModel.Output.threat, .violence, .exposure] {
                let weight = weights[output.rawValue]
                if heaviest[output].map({ weight > $0.weight }) ?? true { heaviest[output] = (index, weight, utterance) }
            }
        }
    }

    /// The longest evidence the model gives, in scalars: a sentence, or this much of it around
    /// the word that weighs most.
    public static let modelEvidenceLimit = 160

    /// The model's evidence in `text`, its scalar offsets and its words: the sentence whose features weigh
    /// most toward `output` (a threat at all, or one kind), so that a supervisor reads the menace in
    /// its words; of a sentence longer than `modelEvidenceLimit`, that much around its heaviest word.
    static func heaviestSentence(
        in text: String, _ located: [ContactFeatures.Located], model: ThreatModel, toward output: ThreatModel.Output = .threat
    ) -> (range: Range<Int>, excerpt: String) {
        let scalars = Array(text.unicodeScalars)
        // Sentences end after 。！？．…!? or a line break, or a full stop before a space or the end;
        // trimmed of white space, the empty ones left out.
        var sentences: [Range<Int>] = []
        var start = 0
        func close(at end: Int) {
            var sentence = start..<end
            while !sentence.isEmpty && scalars[sentence.lowerBound].properties.isWhitespace { sentence = sentence.dropFirst() }
            while !sentence.isEmpty && scalars[sentence.upperBound - 1].properties.isWhitespace { sentence = sentence.dropLast() }
            if !sentence.isEmpty { sentences.append(sentence) }
            start = end
        }
        for offset in scalars.indices {
            switch scalars[offset] {
            case "。", "！", "？", "．", "…", "!", "?", "\n": close(at: offset + 1)
            case "." where offset + 1 == scalars.count || scalars[offset + 1].properties.isWhitespace: close(at: offset + 1)
            default: break
            }
        }
        close(at: scalars.count)
        guard !sentences.isEmpty else { return (0..<0, "") }
        // Each feature counts in the sentence it was read in (the last one starting at or before it).
        func sentence(of position: Int) -> Int {
            var low = 0
            var high = sentences.count
            while high - low > 1 {
                let middle = (low + high) / 2
                if sentences[middle].lowerBound <= position { low = middle } else { high = middle }
            }
            return low
        }
        var weights = [Double](repeating: 0, count: sentences.count)
        for feature in located { weights[sentence(of: feature.source.lowerBound)] += model.weight(of: feature.feature, toward: output) }
        let chosen = sentences[weights.indices.max { weights[$0] < weights[$1] } ?? 0]
        func excerpt(_ range: Range<Int>) -> (range: Range<Int>, excerpt: String) {
            (range, String(String.UnicodeScalarView(scalars[range])))
        }
        guard chosen.count > modelEvidenceLimit else { return excerpt(chosen) }
        let inSentence = located.filter { chosen.contains($0.source.lowerBound) }
        let heaviest =
            inSentence.max { model.weight(of: $0.feature, toward: output) < model.weight(of: $1.feature, toward: output) }?.source ?? chosen
        var lower = max(chosen.lowerBound, min(heaviest.lowerBound - modelEvidenceLimit / 2, chosen.upperBound - modelEvidenceLimit))
        var upper = min(chosen.upperBound, lower + modelEvidenceLimit)
        // Whole characters: a skin tone, a combining mark or a joined emoji stays with what it joins.
        func joins(_ offset: Int) -> Bool {
            scalars[offset].properties.isGraphemeExtend || scalars[offset].properties.isEmojiModifier || scalars[offset] == "\u{200D}"
                || (offset > 0 && scalars[offset - 1] == "\u{200D}")
        }
        while lower > chosen.lowerBound && joins(lower) { lower -= 1 }
        while upper < chosen.upperBound && joins(upper) { upper += 1 }
        return excerpt(lower..<upper)
    }

    /// A threat the token patterns did not phrase but the model reads in the caller's words: the
    /// kind it finds likelier, SEVERITY_MEDIUM (a supervisor reviews) from the policy's
    /// `threatModel.medium` probability, SEVERITY_HIGH from `threatModel.high` if set (also over a
    /// pattern's SEVERITY_MEDIUM of the kind) where what weighs in the evidence sentence is not
    /// someone else's words (`weighsMostInReportedSpeech`). Beside a
    /// threat of one kind the patterns raised, the other kind where the model's own probability of
    /// it reaches `medium` too (and `high` for SEVERITY_HIGH): "refund it or it's on TikTok" and
    /// later "I'll come round with a few lads". The evidence is the sentence that weighs most toward
    /// a threat (toward its own kind, for a second kind) in the utterance that weighs most, with the
    /// probability of a threat at all. When the agent warned about it in a later utterance (the
    /// policy's `agentWarnings`, a site's fixed warning script: ただいまのご発言は記録し、警察に相談いたします),
    /// two readers agree: SEVERITY_HIGH from `threatModel.warned` (or `medium`), the agent's words
    /// its second evidence.
    private func addModelThreat(
        _ reading: ModelReading, scores: ThreatModel.Scores?, record: DemandRecord, to findings: inout Findings
    ) {
        guard let scores, let threatModel, let thresholds = policy.threatModel else { return }
        let least = thresholds.warned ?? thresholds.medium
        guard scores.threat >= least else { return }
        // A kind the patterns raised below SEVERITY_HIGH does not keep the model from raising it to
        // SEVERITY_HIGH: more menace ("…, or else") never makes a milder verdict.
        let reachesHigh = thresholds.high.map { scores.threat >= $0 } ?? false
        let raised = [SignalKind.signalThreatViolence, .signalThreatExposure].filter { kind in
            guard let signal = findings.signals[kind] else { return false }
            return !reachesHigh || signal.severity.rawValue >= Severity.high.rawValue
        }
        // The kind, the probability its severity is weighed on and the output its evidence is read
        // toward: the threat at all for the likelier kind, the kind's own for a second one.
        let kind: SignalKind
        let probability: Double
        let output: ThreatModel.Output
        switch raised {
        case []:
            kind = scores.violence >= scores.exposure ? .signalThreatViolence : .signalThreatExposure
            (probability, output) = (scores.threat, .threat)
        case [.signalThreatViolence] where scores.exposure >= least:
            (kind, probability, output) = (.signalThreatExposure, min(scores.exposure, scores.threat), .exposure)
        case [.signalThreatExposure] where scores.violence >= least:
            (kind, probability, output) = (.signalThreatViolence, min(scores.violence, scores.threat), .violence)
        default: return
        }
        guard let heaviest = reading.heaviest[output] else { return }
        let text = record.utterances[heaviest.index].text
        let sentence = Self.heaviestSentence(in: text, heaviest.located, model: threatModel, toward: output)
        var evidence = Evidence()
        evidence.utteranceIndex = UInt32(heaviest.index)
        evidence.start = UInt32(sentence.range.lowerBound)
        evidence.end = UInt32(sentence.range.upperBound)
        evidence.excerpt = sentence.excerpt
        evidence.rule = ThreatModel.evidenceRule + " p=" + ThreatModel.shown(scores.threat)
        if let warning = agentWarning(after: heaviest.index, in: record) {
            findings.add(kind, .high, evidence: evidence)
            findings.add(kind, .high, evidence: warning)
        } else if probability >= thresholds.medium {
            // SEVERITY_HIGH only for the caller's own words: a victim telling what was said to them
            // reads as menace too.
            let reported = Self.weighsMostInReportedSpeech(
                sentence.range, heaviest.located, reading.reportedSpeech[heaviest.index] ?? [], model: threatModel, toward: output)
            let highFrom = reading.reportsSpeech ? thresholds.high : thresholds.highOwnWords ?? thresholds.high
            let high = !reported && highFrom.map { probability >= $0 } ?? false
            findings.add(kind, high ? .high : .medium, evidence: evidence)
        }
    }

    /// Whether the features read in `sentence` weigh at least as much toward `output` inside
    /// `reported` (someone else's words: reported clauses, quotations) as outside it: "they told me
    /// you get nothing, so…" followed by the caller's own menace is the caller's.
    static func weighsMostInReportedSpeech(
        _ sentence: Range<Int>, _ located: [ContactFeatures.Located], _ reported: [Range<Int>], model: ThreatModel,
        toward output: ThreatModel.Output
    ) -> Bool {
        guard reported.contains(where: { $0.overlaps(sentence) }) else { return false }
        var inside = 0.0
        var outside = 0.0
        for feature in located where sentence.contains(feature.source.lowerBound) {
            let weight = model.weight(of: feature.feature, toward: output)
            if reported.contains(where: { $0.contains(feature.source.lowerBound) }) { inside += weight } else { outside += weight }
        }
        return inside >= outside
    }

    /// How far after the caller's words an agent's warning is looked for: the agent's replies among
    /// the next six utterances (on the development corpus every warning is within six, most in the
    /// next one), the first 512 scalars of each (a warning opens a reply; the latest seen starts at
    /// 311), so that a long reply costs no more than a short one.
    static let warningWindow = (utterances: 6, scalars: 512)

    /// The first of the policy's `agentWarnings` in an agent's reply after utterance `index`, as
    /// evidence named by the warning's id. The agent's utterances are analysed only when the model
    /// reads a threat, and only within `warningWindow`.
    private func agentWarning(after index: Int, in record: DemandRecord) -> Evidence? {
        guard let warnings = agentWarningMatcher else { return nil }
        let window = (index + 1)..<min(record.utterances.count, index + 1 + Self.warningWindow.utterances)
        for later in window where record.utterances[later].speaker == .agent {
            let reply = record.utterances[later].text.unicodeScalars
            let tokens = warnings.analyzer.analyze(String(String.UnicodeScalarView(reply.prefix(Self.warningWindow.scalars))))
            guard let match = warnings.matches(in: warnings.keys(of: tokens)).first else { continue }
            let start = tokens[match.tokens.lowerBound].source.lowerBound
            let end = tokens[match.tokens.upperBound - 1].source.upperBound
            let from = reply.index(reply.startIndex, offsetBy: start)
            var evidence = Evidence()
            evidence.utteranceIndex = UInt32(later)
            evidence.start = UInt32(start)
            evidence.end = UInt32(end)
            evidence.excerpt = String(reply[from..<reply.index(from, offsetBy: end - start)])
            evidence.rule = warnings.patterns[match.pattern].id
            return evidence
        }
        return nil
    }

    /// The hits of patterns marked `confirmedByModel`, where the model's probability reaches the
    /// policy's `threatModel.confirm`; their evidence names the probability beside the pattern.
    private func addConfirmedHits(_ hits: [UtteranceAnalysis.Hit], scores: ThreatModel.Scores?, to findings: inout Findings) {
        guard let scores, let confirm = policy.threatModel?.confirm, scores.threat >= confirm else { return }
        for var hit in hits {
            hit.evidence.rule += " + " + ThreatModel.evidenceRule + " p=" + ThreatModel.shown(scores.threat)
            findings.add(hit.signal, hit.severity, evidence: hit.evidence)
        }
    }

    /// The hits of patterns with a `hint` group (cues of an insinuated threat: a routine known, a
    /// dark car park), where cues of two groups raised one signal in words apart (two groups read in
    /// the same words, "walk home alone", are one cue) and the model's probability reaches the
    /// policy's `threatModel.confirm`: the model finds menace likely, and two kinds of cue say where.
    /// Confirmed as `addConfirmedHits` confirms: their evidence names the probability beside the pattern.
    private func addCues(_ hits: [UtteranceAnalysis.Hit], scores: ThreatModel.Scores?, to findings: inout Findings) {
        let met = Dictionary(grouping: hits, by: \.signal).sorted(by: { $0.key.rawValue < $1.key.rawValue })
            .filter { Self.twoGroupsApart($0.value) }.flatMap(\.value)
        addConfirmedHits(met, scores: scores, to: &findings)
    }

    /// Whether two of `cues` of different groups were read in words apart: in two utterances, or in
    /// one without overlapping. In one pass and a look over the groups, so that thousands of cues in
    /// a hostile record cost in proportion to them. With two groups or more over two utterances
    /// there is always such a pair: a cue of another group than one in a second utterance.
    static func twoGroupsApart(_ cues: [UtteranceAnalysis.Hit]) -> Bool {
        var earliestEnd: [String: UInt32] = [:]
        var latestStart: [String: UInt32] = [:]
        var utterances: Set<UInt32> = []
        for cue in cues {
            guard let group = cue.hint else { continue }
            earliestEnd[group] = min(earliestEnd[group] ?? .max, cue.evidence.end)
            latestStart[group] = max(latestStart[group] ?? 0, cue.evidence.start)
            utterances.insert(cue.evidence.utteranceIndex)
        }
        guard earliestEnd.count >= 2 else { return false }
        if utterances.count >= 2 { return true }
        // One utterance: a group's earliest cue ends before another group's latest cue starts.
        return earliestEnd.contains { group, end in latestStart.contains { $0.key != group && end <= $0.value } }
    }

    /// Threats the patterns or phrases raised on a contact whose probability is below the policy's
    /// `threatModel.doubt`, and coercion below `threatModel.doubtCoercion`: two readers disagree, so
    /// a supervisor decides. Lowered to SEVERITY_MEDIUM, each evidence naming the probability
    /// (`ThreatModel.doubtedNote`, `ThreatModel.coercionDoubtedNote`).
    private func doubtReadings(scores: ThreatModel.Scores?, record: DemandRecord, to findings: inout Findings) {
        guard let scores else { return }
        if let doubt = policy.threatModel?.doubt, scores.threat < doubt {
            for kind in [SignalKind.signalThreatViolence, .signalThreatExposure] {
                Self.doubt(kind, note: ThreatModel.doubtedNote + ThreatModel.shown(scores.threat), in: &findings)
            }
        }
        // A model trained with no coercion labels has learned nothing to doubt coercion with.
        guard let doubt = policy.threatModel?.doubtCoercion, scores.coercion < doubt, (threatModel?.trainedOn.coercion ?? 0) > 0
        else { return }
        // Coercion a demand names (a kneeling apology asked for) is the agent's record, not a
        // reading: its severity stands, and only the patterns' evidence carries the doubt.
        let named = rules.demandSignals.filter { kind, raised in
            raised.signal == .signalCoercion && record.demands.contains { $0.kind == kind }
        }.map { $0.value.severity }.max { $0.rawValue < $1.rawValue }
        Self.doubt(
            .signalCoercion, note: ThreatModel.coercionDoubtedNote + ThreatModel.shown(scores.coercion), keeping: named,
            in: &findings)
    }

    /// Lowers a signal to SEVERITY_MEDIUM (or the severity `keeping` names, if higher), each
    /// evidence's rule but a demand's naming the model's doubt.
    private static func doubt(_ kind: SignalKind, note: String, keeping: Severity? = nil, in findings: inout Findings) {
        guard var signal = findings.signals[kind] else { return }
        let floor = max(keeping?.rawValue ?? 0, Severity.medium.rawValue)
        if signal.severity.rawValue > floor { signal.severity = Severity(rawValue: floor) ?? .medium }
        for index in signal.evidence.indices where !isDemandEvidence(signal.evidence[index]) {
            signal.evidence[index].rule += note
        }
        findings.signals[kind] = signal
    }

    private func addProlongedContact(_ record: DemandRecord, to findings: inout Findings) {
        guard let threshold = policy.prolongedContactSeconds.last(where: { record.contactDurationSeconds >= $0.seconds })
        else { return }
        let minutes = record.contactDurationSeconds / 60
        findings.add(
            .signalProlongedContact, threshold.severity,
            evidence: Self.fieldEvidence("contactDurationSeconds", "≥ \(threshold.seconds / 60) min", "\(minutes) min"))
    }

    private func addRepeatedContact(_ record: DemandRecord, history: ClaimantHistory, to findings: inout Findings) {
        let day = history.contacts24h + 1
        let month = history.contacts30d + 1
        guard day >= policy.repeatedContacts24h || month >= policy.repeatedContacts30d else { return }
        // Calling again, calmly, about an open legitimate claim is a follow-up, not harassment,
        // even when it asks for the same remedy again; unless the pace is extreme, or the call
        // presses (threats, abuse, a hidden purpose, an excessive or escalating demand); a threat
        // the model doubts does not.
        let pressure = rules.notAFollowUpSignals.contains { findings.presses($0) }
        let followUp = history.hasOpenLegitimateClaim && !pressure
        if followUp && day < policy.repeatedContacts24h * 2 { return }
        let raised = history.repeatedDemandContacts >= 2 || day >= policy.repeatedContacts24h * 2
        findings.add(
            .signalRepeatedContact, raised ? .high : .medium,
            evidence: Self.fieldEvidence("history", "contacts", "\(day) in 24 h, \(month) in 30 days"))
    }

    /// Money demanded about a complaint that has grown by the policy's ratio since the least the
    /// claimant asked for it on an earlier contact, beyond what the verified loss supports: a
    /// demand raised call by call, however small each step.
    private func addEscalatingMoney(_ record: DemandRecord, history: ClaimantHistory, to findings: inout Findings) {
        guard let earlier = history.leastEarlierMoneyDemanded, let money = DemandedMoney(record.demands),
            money.currencyCode == earlier.currencyCode,
            Double(money.amountMinor) >= Double(earlier.amountMinor) * policy.escalatingMoneyRatio
        else { return }
        let loss = record.assessment.verifiedLoss
        if record.assessment.hasVerifiedLoss, loss.currencyCode == money.currencyCode,
            Double(money.amountMinor) <= Double(loss.amountMinor) * policy.proportionateRatio
        {
            return
        }
        findings.add(
            .signalExcessiveDemand, .medium,
            evidence: Self.fieldEvidence(
                "history", "money demanded on an earlier contact",
                "\(Self.format(earlier.amountMinor, earlier.currencyCode)) → \(Self.format(money.amountMinor, money.currencyCode))"))
    }

    /// The same complaint from several claimants: an alert that the business has a defect to look
    /// into. It never counts against the claimant.
    private func addRecurringIssue(history: ClaimantHistory, to findings: inout Findings) {
        let claimants = history.otherClaimantsWithSameComplaint + 1
        guard claimants >= policy.recurringIssueClaimants else { return }
        findings.add(
            .signalRecurringIssue, .low,
            evidence: Self.fieldEvidence(
                "history", "recurring issue",
                "\(claimants) claimants in \(policy.recurringIssueWindowDays) days"))
    }

    // MARK: - The five criteria

    private func criterion(_ criterion: Criterion, _ score: Double, _ rationale: String) -> CriterionScore {
        var value = CriterionScore()
        value.criterion = criterion
        value.score = (min(1, max(0, score)) * 1000).rounded() / 1000
        value.weight = policy.weights[criterion] ?? 0
        value.rationale = rationale
        return value
    }

    private var rules: JudgmentRules { policy.rules }

    private func text(_ key: RationaleCatalog.Key, _ language: String, _ values: [String: String] = [:]) -> String {
        rules.rationales.text(key, language, values)
    }

    private func scoreResponsibility(_ fault: Fault, _ language: String) -> CriterionScore {
        let (known, key): (Fault, RationaleCatalog.Key) =
            switch fault {
            case .confirmed: (.confirmed, .responsibilityConfirmed)
            case .partial: (.partial, .responsibilityPartial)
            case .none: (.none, .responsibilityNone)
            default: (.unknown, .responsibilityUnknown)
            }
        return criterion(.responsibility, rules.responsibilityScores[known] ?? 0, text(key, language))
    }

    private func scoreCausation(_ causation: Causation, _ language: String) -> CriterionScore {
        let (known, key): (Causation, RationaleCatalog.Key) =
            switch causation {
            case .confirmed: (.confirmed, .causationConfirmed)
            case .plausible: (.plausible, .causationPlausible)
            case .none: (.none, .causationNone)
            default: (.unknown, .causationUnknown)
            }
        return criterion(.causation, rules.causationScores[known] ?? 0, text(key, language))
    }

    private func scoreConduct(_ findings: Findings) -> CriterionScore {
        let language = findings.language
        var penalty = 0.0
        var named: [String] = []
        for kind in rules.conductSignals {
            guard let signal = findings.signals[kind] else { continue }
            penalty += policy.conductPenalty[signal.severity] ?? 0
            named.append(Self.label(kind, ja: language == "ja"))
        }
        if named.isEmpty {
            return criterion(.conduct, 1, text(.conductClean, language))
        }
        let list = named.joined(separator: text(.listSeparator, language))
        return criterion(.conduct, 1 - penalty, text(.conductInQuestion, language, ["signals": list]))
    }

    private func scoreProportionality(
        _ record: DemandRecord, concreteDemands: [Demand], findings: inout Findings
    ) -> CriterionScore {
        let language = findings.language
        let scores = rules.proportionalityScores
        var score = 1.0
        var reasons: [String] = []
        // Warranted by a confirmed fault, unless the caller's words asked for more (a dismissal) or
        // pressed for it (coercion: "fire her or else").
        let askedForMore = findings.signals[.signalExcessiveDemand] != nil || findings.signals[.signalCoercion] != nil
        func warranted(_ kind: DemandKind) -> Bool {
            !askedForMore && record.assessment.companyFault == .confirmed
                && policy.warrantedDemands[kind]?.contains(record.incident.category) == true
        }
        if let priceless = concreteDemands.first(where: { policy.pricelessDemands.contains($0.kind) && !warranted($0.kind) }) {
            score = 0
            findings.add(.signalExcessiveDemand, .high, evidence: Self.demandEvidence(record, kind: priceless.kind))
            reasons.append(text(.pricelessDemand, language, ["demand": Self.label(priceless.kind, ja: language == "ja")]))
        }
        let loss = record.assessment.hasVerifiedLoss ? record.assessment.verifiedLoss : nil
        let moneyDemands = concreteDemands.filter { $0.hasAmount && $0.amount.amountMinor > 0 }
        if !moneyDemands.isEmpty {
            let currency = loss?.currencyCode ?? moneyDemands[0].amount.currencyCode
            let sameCurrency = moneyDemands.filter { $0.amount.currencyCode == currency }
            let demanded = sameCurrency.reduce(Int64(0)) { $0 &+ $1.amount.amountMinor }
            if record.assessment.companyFault == .none {
                score = min(score, scores[.moneyWithoutFault] ?? 0)
                findings.add(
                    .signalExcessiveDemand, .medium,
                    evidence: Self.fieldEvidence("demands", "money where fault is none", Self.format(demanded, currency)))
                reasons.append(text(.moneyWithoutFault, language))
            } else if let loss, loss.amountMinor > 0, sameCurrency.count == moneyDemands.count {
                let ratio = Double(demanded) / Double(loss.amountMinor)
                let amounts = "\(Self.format(demanded, currency)) / \(Self.format(loss.amountMinor, currency))"
                if ratio <= policy.proportionateRatio {
                    reasons.append(text(.amountMatches, language, ["amounts": amounts]))
                } else if ratio <= policy.excessiveRatio {
                    score = min(score, scores[.somewhatAbove] ?? 0)
                    findings.amountAboveLoss = true
                    reasons.append(text(.amountSomewhatAbove, language, ["amounts": amounts]))
                } else {
                    let gross = ratio > policy.grossRatio
                    findings.grossAmount = findings.grossAmount || gross
                    score = min(score, scores[gross ? .gross : .excessive] ?? 0)
                    findings.add(
                        .signalExcessiveDemand, gross ? .high : .medium,
                        evidence: Self.fieldEvidence("demands", "\(Self.oneDecimal(ratio))× the verified loss", amounts))
                    reasons.append(text(.amountRatio, language, ["ratio": Self.oneDecimal(ratio), "amounts": amounts]))
                }
            } else {
                score = min(score, scores[.lossUnverified] ?? 0)
                findings.amountAboveLoss = true
                reasons.append(text(.lossUnverified, language))
            }
        }
        let spokenExcess = scores[.spokenExcess] ?? 0
        if findings.signals[.signalExcessiveDemand] != nil && score > spokenExcess {
            score = spokenExcess
            reasons.append(text(.spokenExcess, language))
        }
        if concreteDemands.isEmpty && findings.signals[.signalUnclearPurpose] != nil {
            score = min(score, scores[.noConcreteDemand] ?? 0)
            reasons.append(text(.noConcreteDemand, language))
        }
        if reasons.isEmpty {
            reasons.append(text(concreteDemands.isEmpty ? .nothingDemanded : .inProportion, language))
        }
        return criterion(.proportionality, score, reasons.joined(separator: text(.sentenceSeparator, language)))
    }

    private func scoreRelevance(_ record: DemandRecord, concreteDemands: [Demand], findings: inout Findings) -> CriterionScore {
        let language = findings.language
        let ja = language == "ja"
        let scores = rules.relevanceScores
        if concreteDemands.isEmpty {
            if findings.signals[.signalUnclearPurpose] != nil {
                return criterion(.relevance, scores[.unclearPurpose] ?? 0, text(.purposeUnclear, language))
            }
            return criterion(.relevance, scores[.noDemandYet] ?? 0, text(.noDemandYet, language))
        }
        let related = policy.relatedDemands[record.incident.category] ?? policy.relatedDemands[.incidentUnspecified] ?? []
        let unrelated = concreteDemands.filter { !related.contains($0.kind) }
        let unrelatedKinds = Array(Set(unrelated.map(\.kind))).sorted { $0.rawValue < $1.rawValue }
        if unrelatedKinds.isEmpty {
            return criterion(.relevance, 1, text(.demandsRelated, language))
        }
        for kind in unrelatedKinds {
            findings.add(
                .signalUnrelatedDemand, policy.pricelessDemands.contains(kind) ? .high : .medium,
                evidence: Self.demandEvidence(record, kind: kind))
        }
        let names = unrelatedKinds.map { Self.label($0, ja: ja) }.joined(separator: text(.listSeparator, language))
        let relatedShare = Double(concreteDemands.count - unrelated.count) / Double(concreteDemands.count)
        return criterion(
            .relevance, relatedShare * (scores[.unrelatedAtMost] ?? 0),
            text(.demandsUnrelated, language, ["category": Self.label(record.incident.category, ja: ja), "demands": names]))
    }

    // MARK: - Verdict, risk, actions

    private func decideVerdict(
        legitimacy: Double, conduct: Double, factsUnknown: Bool, onlyAnswerable: Bool, credibleViolence: Bool,
        findings: Findings
    ) -> Verdict {
        if credibleViolence || conduct <= policy.conductUnjustAtMost { return .unjustDemand }
        // Content alone decides money far beyond the verified loss, however politely it is asked.
        if findings.grossAmount { return .unjustDemand }
        let grossDemand =
            findings.signals[.signalExcessiveDemand]?.severity == .high
            || findings.signals[.signalUnrelatedDemand]?.severity == .high
        // Pressure the threat model doubts (two readers disagree) is a supervisor's to weigh, not proof.
        let pressure = rules.pressureSignals.contains { findings.presses($0) }
        if grossDemand && pressure { return .unjustDemand }
        // Menace beside a demand out of proportion: the means serve the excess. A threat only the
        // model read is no such menace (it also reads a victim's account of one).
        let leverage = rules.leverageSignals.contains { kind in
            findings.presses(kind)
                && findings.signals[kind]?.evidence.contains { !ThreatModel.reads($0) } == true
        }
        if leverage && findings.signals[.signalExcessiveDemand] != nil { return .unjustDemand }
        // Weak content alone (money asked where no fault was found, on a long or repeated call too) is
        // a supervisor's to weigh: a low legitimacy makes the demand unjust only beside unacceptable
        // means or a gross demand.
        if legitimacy < policy.unjustBelow && (pressure || grossDemand) { return .unjustDemand }
        // Hiding the purpose behind "sincerity" is itself an unacceptable way of demanding.
        if findings.signals[.signalUnclearPurpose]?.severity == .high { return .unjustDemand }
        // Asking only to be told what happened, or that it not happen again, needs no fault found
        // first: asked with no signal raised, it is answered.
        if onlyAnswerable && !findings.signals.values.contains(where: { $0.kind != .signalRecurringIssue }) {
            return .legitimateClaim
        }
        // A passing insult on a sound claim goes to a supervisor; it does not make the claim unjust.
        let contentInDoubt = rules.inDoubtSignals.contains { findings.signals[$0] != nil }
        // A contact long enough for SEVERITY_MEDIUM goes to a supervisor even when the claim is sound.
        let longContact = (findings.signals[.signalProlongedContact]?.severity.rawValue ?? 0) >= Severity.medium.rawValue
        if legitimacy >= policy.legitimateAtLeast && !factsUnknown && !contentInDoubt && !findings.amountAboveLoss
            && !longContact
        {
            return .legitimateClaim
        }
        return .needsReview
    }

    private func assessRisk(
        verdict: Verdict, credibleViolence: Bool, findings: Findings, history: ClaimantHistory
    ) -> RiskLevel {
        if credibleViolence { return .riskCritical }
        var risk = RiskLevel.riskLow
        for signal in findings.signals.values where signal.kind != .signalRecurringIssue {
            let level: RiskLevel =
                switch signal.severity {
                case .critical: .riskCritical
                case .high: .riskHigh
                case .medium: .riskElevated
                default: .riskLow
                }
            risk = risk.raised(to: level)
        }
        let conductCount = rules.conductSignals.filter { findings.signals[$0] != nil }.count
        if conductCount >= 3 { risk = risk.raised(to: .riskHigh) }
        if verdict == .unjustDemand { risk = risk.raised(to: .riskElevated) }
        if verdict != .legitimateClaim { risk = risk.raised(to: history.standingRisk) }
        return risk
    }

    private func decideActions(
        verdict: Verdict, risk: RiskLevel, factsUnknown: Bool, credibleViolence: Bool,
        record: DemandRecord, concreteDemands: [Demand], findings: Findings
    ) -> [Action] {
        var actions: [Action] = []
        func add(_ action: Action) { if !actions.contains(action) { actions.append(action) } }
        let leverage = rules.pressureSignals.contains { findings.presses($0) }
        switch verdict {
        case .legitimateClaim:
            add(.resolve)
        case .needsReview:
            if factsUnknown { add(.verifyFacts) }
            if risk.rawValue >= RiskLevel.riskElevated.rawValue || findings.signals[.signalExcessiveDemand] != nil
                || findings.signals[.signalUnrelatedDemand] != nil
            {
                add(.escalateSupervisor)
            }
            if actions.isEmpty { add(.verifyFacts) }
        default:
            add(.escalateSupervisor)
            if factsUnknown && !credibleViolence { add(.verifyFacts) }
            if risk.rawValue >= RiskLevel.riskHigh.rawValue { add(.notifySecurity) }
            if credibleViolence { add(.contactPolice) }
            let moneyUnderPressure = concreteDemands.contains { $0.hasAmount && $0.amount.amountMinor > 0 } && leverage
            if credibleViolence || findings.signals[.signalThreatExposure] != nil
                || findings.signals[.signalCoercion]?.severity.rawValue ?? 0 >= Severity.high.rawValue || moneyUnderPressure
            {
                add(.consultLegal)
            }
            if risk.rawValue >= RiskLevel.riskHigh.rawValue || findings.signals[.signalProlongedContact] != nil
                || findings.signals[.signalRepeatedContact] != nil
            {
                add(.endContact)
            }
        }
        if findings.demandsWrittenStatement && (verdict == .unjustDemand || leverage) {
            add(.declineWrittenStatement)
        }
        return actions
    }

    // MARK: - Helpers

    static func fieldEvidence(_ field: String, _ rule: String, _ excerpt: String) -> Evidence {
        var evidence = Evidence()
        evidence.rule = "\(field): \(rule)"
        evidence.excerpt = excerpt
        return evidence
    }

    static func demandEvidence(_ record: DemandRecord, kind: DemandKind) -> Evidence {
        let index = record.demands.firstIndex { $0.kind == kind } ?? 0
        return fieldEvidence("demands[\(index)]", kind.protoName, record.demands.indices.contains(index) ? record.demands[index].text : "")
    }

    /// Whether `evidence` is a demand's (`demandEvidence`): the agent's record, not a reading.
    static func isDemandEvidence(_ evidence: Evidence) -> Bool { evidence.rule.hasPrefix("demands[") }

    /// `value` with one decimal (2.5), without Foundation's formatter, which costs more than
    /// screening a short record.
    static func oneDecimal(_ value: Double) -> String {
        guard value.magnitude < 1e12 else { return String(format: "%.1f", value) }
        let tenths = Int64((value * 10).rounded())
        return "\(tenths < 0 ? "-" : "")\(tenths.magnitude / 10).\(tenths.magnitude % 10)"
    }

    /// An amount for people: ¥1200, $87.50, or the minor units of another currency.
    static func format(_ amountMinor: Int64, _ currency: String) -> String {
        switch currency {
        case "JPY": return "¥\(amountMinor)"
        case "USD":
            let cents = amountMinor.magnitude % 100
            return "\(amountMinor < 0 ? "-" : "")$\(amountMinor.magnitude / 100).\(cents < 10 ? "0" : "")\(cents)"
        default: return "\(amountMinor) \(currency) (minor units)"
        }
    }
}

/// The signals found so far for one record, one per kind with the highest severity seen.
struct Findings {
    let language: String
    var signals = SignalsByKind()
    var elements: [UtteranceElement] = []
    var demandsWrittenStatement = false
    /// Money is demanded above the verified loss, or against a loss not verified yet.
    var amountAboveLoss = false
    /// Money is demanded beyond the policy's gross ratio of the verified loss.
    var grossAmount = false

    init(language: String) {
        self.language = language
    }

    mutating func add(_ kind: SignalKind, _ severity: Severity, evidence: Evidence) {
        // In place: a copy taken out and stored back would copy the evidence on every hit.
        Self.merge(kind, severity, evidence, into: &signals[kind, default: Signal()])
    }

    /// Evidence kept per signal: enough for a reviewer; a transcript that repeats a threat
    /// thousands of times does not make the answer grow with it.
    static let evidenceLimit = 32

    private static func merge(_ kind: SignalKind, _ severity: Severity, _ evidence: Evidence, into signal: inout Signal) {
        signal.kind = kind
        if severity.rawValue > signal.severity.rawValue { signal.severity = severity }
        if signal.evidence.count < evidenceLimit { signal.evidence.append(evidence) }
    }

    var orderedSignals: [Signal] { signals.values }

    /// Whether a signal of this kind was raised on evidence the threat model does not doubt.
    func presses(_ kind: SignalKind) -> Bool {
        signals[kind]?.evidence.contains { !ThreatModel.doubts($0) } ?? false
    }
}

/// One record's signals by kind, a slot per kind in `SignalKind`'s order: looked up a few dozen
/// times per record, where hashing the kind into a dictionary (and growing it) cost 7% of an
/// English record's instructions.
struct SignalsByKind {
    private var slots = [Signal?](repeating: nil, count: SignalKind.allCases.count)

    subscript(kind: SignalKind) -> Signal? {
        get { slots.indices.contains(kind.rawValue) ? slots[kind.rawValue] : nil }
        set {
            precondition(slots.indices.contains(kind.rawValue), "no slot for signal kind \(kind.rawValue)")
            slots[kind.rawValue] = newValue
        }
    }

    subscript(kind: SignalKind, default defaultValue: @autoclosure () -> Signal) -> Signal {
        get { self[kind] ?? defaultValue() }
        _modify {
            precondition(slots.indices.contains(kind.rawValue), "no slot for signal kind \(kind.rawValue)")
            if slots[kind.rawValue] == nil { slots[kind.rawValue] = defaultValue() }
            yield &slots[kind.rawValue]!
        }
    }

    /// The signals found, in the order of their kinds.
    var values: [Signal] { slots.compactMap { $0 } }
}
