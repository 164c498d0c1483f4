public import DemandScreenAPI

/// What the history knows about a claimant before this contact: the engine's only view of the
/// past. The daemon fills it from storage; `evaluate` from the records replayed before.
public struct ClaimantHistory: Sendable, Hashable {
    /// Earlier contacts in the 24 hours before this one (this one not included).
    public var contacts24h: UInt32
    /// Earlier contacts in the 30 days before this one.
    public var contacts30d: UInt32
    /// Earlier contacts in 30 days that made one of this contact's demands already.
    public var repeatedDemandContacts: UInt32
    /// An earlier contact about the same incident was a legitimate claim or under review and is
    /// not resolved: calling again is a follow-up, not harassment.
    public var hasOpenLegitimateClaim: Bool
    /// The least money the claimant demanded about the same complaint on an earlier contact in 30
    /// days (among the newest 32), in the currency this contact demands money in; nil when none.
    public var leastEarlierMoneyDemanded: DemandedMoney?
    /// The claimant's standing risk before this contact.
    public var standingRisk: RiskLevel
    /// Flags raised on earlier contacts and still active.
    public var activeFlags: [SignalKind]
    /// Other claimants who raised the same complaint in the recurring-issue window, counted up to
    /// the policy's threshold less one (enough to tell whether this contact reaches it).
    public var otherClaimantsWithSameComplaint: UInt32

    public init(
        contacts24h: UInt32 = 0,
        contacts30d: UInt32 = 0,
        repeatedDemandContacts: UInt32 = 0,
        hasOpenLegitimateClaim: Bool = false,
        leastEarlierMoneyDemanded: DemandedMoney? = nil,
        standingRisk: RiskLevel = .riskLow,
        activeFlags: [SignalKind] = [],
        otherClaimantsWithSameComplaint: UInt32 = 0
    ) {
        self.contacts24h = contacts24h
        self.contacts30d = contacts30d
        self.repeatedDemandContacts = repeatedDemandContacts
        self.hasOpenLegitimateClaim = hasOpenLegitimateClaim
        self.leastEarlierMoneyDemanded = leastEarlierMoneyDemanded
        self.standingRisk = standingRisk
        self.activeFlags = activeFlags
        self.otherClaimantsWithSameComplaint = otherClaimantsWithSameComplaint
    }

    /// A claimant never seen before.
    public static let firstContact = ClaimantHistory()
}
