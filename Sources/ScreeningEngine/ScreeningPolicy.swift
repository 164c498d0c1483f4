public import DemandScreenAPI

/// Everything the engine's judgment depends on, as operators configure it: weights, thresholds,
/// lexicons and exceptions. Loaded from a versioned YAML file (`ScreeningPolicy(yaml:)`); the
/// default ships with the engine (`ScreeningPolicy.builtIn()`).
public struct ScreeningPolicy: Sendable {
    /// A lexicon term that raises a signal where a customer says it.
    public struct LexiconEntry: Sendable, Hashable {
        public var term: String
        public var signal: SignalKind
        public var severity: Severity
    }

    /// The weight of each criterion in `legitimacy_score`.
    public var weights: [Criterion: Double]
    /// Says which policy judged a result (`policy_version`).
    public var version: String
    /// `legitimacy_score` at or above which a claim with known facts is legitimate.
    public var legitimateAtLeast: Double
    /// `legitimacy_score` below which a demand is unjust.
    public var unjustBelow: Double
    /// A conduct score at or below this makes the demand unjust whatever the other criteria say:
    /// the means are unacceptable (coercion, threats, sustained abuse).
    public var conductUnjustAtMost: Double
    /// What each signal's severity takes off the conduct criterion's score.
    public var conductPenalty: [Severity: Double]
    /// Demanded money up to this multiple of the verified loss is proportionate.
    public var proportionateRatio: Double
    /// Beyond this multiple, SIGNAL_EXCESSIVE_DEMAND (medium).
    public var excessiveRatio: Double
    /// Beyond this multiple, SIGNAL_EXCESSIVE_DEMAND (high).
    public var grossRatio: Double
    /// Contact durations that raise SIGNAL_PROLONGED_CONTACT, low to high severity.
    public var prolongedContactSeconds: [(seconds: UInt32, severity: Severity)]
    /// Insults that make abuse sustained (SEVERITY_HIGH): this many, or in this many utterances.
    public var sustainedAbuseHits: Int
    public var sustainedAbuseUtterances: Int
    /// Contacts in 24 hours from one claimant, this one included, that raise SIGNAL_REPEATED_CONTACT.
    public var repeatedContacts24h: UInt32
    /// Contacts in 30 days from one claimant that raise SIGNAL_REPEATED_CONTACT.
    public var repeatedContacts30d: UInt32
    /// Money demanded about a complaint this many times what the claimant demanded for it on an
    /// earlier contact, beyond what the verified loss supports, raises SIGNAL_EXCESSIVE_DEMAND:
    /// an escalating demand is pressure, and the call is no follow-up.
    public var escalatingMoneyRatio: Double = 1.5
    /// Claimants (this one included) raising the same complaint within `recurringIssueWindowDays`
    /// that raise SIGNAL_RECURRING_ISSUE.
    public var recurringIssueClaimants: UInt32 = 3
    public var recurringIssueWindowDays: UInt32 = 30
    /// How alike two descriptions must be (Dice coefficient of folded bigrams, 0..1) to be the
    /// same complaint when neither names a product key.
    public var recurringIssueSimilarity: Double = 0.5
    /// How long a risk flag counts toward its claimant's standing risk.
    public var riskFlagActiveDays: UInt32 = 90
    /// Whether phone numbers, e-mail addresses and card numbers are masked in what is stored.
    public var maskPersonalData = true
    /// Transcripts older than this are purged from storage; counts and flags stay.
    public var transcriptRetentionDays: UInt32 = 365
    /// The demands related to each kind of incident; others are unrelated (要求内容と原因の関連性).
    public var relatedDemands: [IncidentCategory: Set<DemandKind>]
    /// Demands that no loss can price (kneeling, disciplining or dismissing staff): out of proportion
    /// but where `warrantedDemands` says otherwise.
    public var pricelessDemands: Set<DemandKind>
    /// Priceless demands that a fault the agent confirmed in an incident of these kinds warrants
    /// (disciplining the member of staff whose rudeness was confirmed): then in proportion.
    public var warrantedDemands: [DemandKind: Set<IncidentCategory>] = [:]
    /// Demands that need no established fault to be met (to be told what happened, that it not
    /// happen again): asked alone and calmly, they make a legitimate claim whatever the facts.
    public var answerableDemands: Set<DemandKind> = []
    public var lexicon: [LexiconEntry]
    /// Terms that cancel a lexicon match they overlap (殺虫剤, 虫を殺す, "dying to").
    public var exceptions: [String]
    /// Words that mark a quotation of what someone else said; a match inside quotation marks in
    /// an utterance with one of these is not the customer's own.
    public var reportingCues: [String]
    /// Terms that demand a written statement (念書, 誓約書, "in writing").
    public var writtenStatementTerms: [String]
    /// Cue terms of the four elements; an utterance with none of them is a fact.
    public var elementCues: [Element: [String]]
    /// Concept classes for token patterns (harm acts, the company's people and places, intent
    /// markers…): each a list of words, or of words in a row ("blow up", ぶっ殺す).
    public var concepts: [String: [String]] = [:]
    /// Rules over tokens: how threats, exposure, coercion and abuse are phrased.
    public var tokenPatterns: [TokenPatternRule] = []
    /// A site's fixed warning script for its agents (ただいまのご発言は記録し、警察に相談いたします), as
    /// token patterns: after a threat only the model read, one makes it SEVERITY_HIGH. None built in.
    public var agentWarnings: [AgentWarning] = []
    /// The threat model's probabilities in the judgment; nil leaves the model out.
    public var threatModel: ThreatModelThresholds?
    /// The criteria's scores, the signal groups, the demand signals and the rationales.
    public var rules: JudgmentRules

    public static func == (lhs: ScreeningPolicy, rhs: ScreeningPolicy) -> Bool {
        lhs.version == rhs.version
    }
}

/// Where the threat model's probability (that the caller threatens at all) enters the judgment.
public struct ThreatModelThresholds: Sendable, Equatable {
    /// From this probability the model raises a threat no token pattern phrased, SEVERITY_MEDIUM.
    public var medium: Double
    /// From this one, SEVERITY_HIGH, where what weighs in the sentence it points at is the caller's
    /// own words (not a reported clause or a quotation); nil: the model alone never raises SEVERITY_HIGH.
    public var high: Double?
    /// From this probability (between `medium` and `high`), SEVERITY_HIGH too where no customer
    /// utterance of the contact reports anyone's words (no reporting cue, reported clause or
    /// quotation): the menace read is the caller's own, not a victim's account; nil: `high` only.
    public var highOwnWords: Double?
    /// A token pattern marked `confirmedByModel` raises its signal only from this probability: broad
    /// patterns (a channel near a condition word) whose hits the model must not find unlikely.
    public var confirm: Double?
    /// Below this probability a threat the patterns or phrases raised is doubted: lowered to
    /// SEVERITY_MEDIUM, so that a supervisor weighs it and it raises no flag (nil: never doubted).
    public var doubt: Double?
    /// Below this probability of coercion, coercion the patterns or phrases raised is doubted the
    /// same way (nil: never doubted). Coercion a demand names (`demandSignals`: a kneeling apology)
    /// keeps its severity.
    public var doubtCoercion: Double?
    /// From this probability (at most `medium`), a threat the model reads that the agent warned
    /// about afterwards (`ScreeningPolicy.agentWarnings`) is raised, SEVERITY_HIGH (nil: `medium`).
    public var warned: Double?

    public init(
        medium: Double, high: Double? = nil, highOwnWords: Double? = nil, confirm: Double? = nil, doubt: Double? = nil,
        doubtCoercion: Double? = nil, warned: Double? = nil
    ) {
        self.medium = medium
        self.high = high
        self.highOwnWords = highOwnWords
        self.confirm = confirm
        self.doubt = doubt
        self.doubtCoercion = doubtCoercion
        self.warned = warned
    }
}
