public import DemandScreenAPI

/// What the history keeps of one screened contact: enough to count contacts, compare demands and
/// group the same complaint from different claimants. Stores hold these; the engine reads them.
public struct PastContact: Sendable, Hashable {
    public var recordID: String
    public var claimantID: String
    /// The contact's time (`received_at_unix_ms`, or the arrival time when that was 0).
    public var receivedAtUnixMs: Int64
    public var verdict: Verdict
    public var demandKinds: [DemandKind]
    /// The money the contact demanded, if any.
    public var moneyDemanded: DemandedMoney?
    public var complaint: Complaint

    public init(
        recordID: String, claimantID: String, receivedAtUnixMs: Int64, verdict: Verdict, demandKinds: [DemandKind],
        moneyDemanded: DemandedMoney? = nil, complaint: Complaint
    ) {
        self.recordID = recordID
        self.claimantID = claimantID
        self.receivedAtUnixMs = receivedAtUnixMs
        self.verdict = verdict
        self.demandKinds = demandKinds
        self.moneyDemanded = moneyDemanded
        self.complaint = complaint
    }

    /// The contact as the history keeps it, from its record and the result it was given.
    public init(record: DemandRecord, result: ScreeningResult, receivedAtUnixMs: Int64) {
        self.init(
            recordID: record.recordID, claimantID: record.claimantID, receivedAtUnixMs: receivedAtUnixMs,
            verdict: result.verdict, demandKinds: record.demands.map(\.kind), moneyDemanded: DemandedMoney(record.demands),
            complaint: Complaint(record.incident))
    }
}

/// The money a contact demanded: the sum of its demands with an amount, in the currency of the
/// first (amounts in another currency are left out; the proportionality criterion weighs them).
public struct DemandedMoney: Sendable, Hashable {
    public var currencyCode: String
    public var amountMinor: Int64

    public init(currencyCode: String, amountMinor: Int64) {
        self.currencyCode = currencyCode
        self.amountMinor = amountMinor
    }

    /// Nil when no demand has an amount above zero.
    public init?(_ demands: [Demand]) {
        let money = demands.filter { $0.hasAmount && $0.amount.amountMinor > 0 }
        guard let first = money.first else { return nil }
        currencyCode = first.amount.currencyCode
        amountMinor = money.filter { $0.amount.currencyCode == first.amount.currencyCode }.reduce(Int64(0)) { $0 &+ $1.amount.amountMinor }
    }

    /// As stored: `JPY:5400`.
    public var stored: String { "\(currencyCode):\(amountMinor)" }

    /// From its stored form; nil for an empty or malformed one.
    public init?(stored: String) {
        guard let colon = stored.lastIndex(of: ":"), let amount = Int64(stored[stored.index(after: colon)...]), amount > 0 else {
            return nil
        }
        self.init(currencyCode: String(stored[..<colon]), amountMinor: amount)
    }
}

/// A complaint another claimant raised, and when: what the recurring-issue check compares.
public struct ComplaintSighting: Sendable, Hashable {
    public var claimantID: String
    public var receivedAtUnixMs: Int64
    public var complaint: Complaint

    public init(claimantID: String, receivedAtUnixMs: Int64, complaint: Complaint) {
        self.claimantID = claimantID
        self.receivedAtUnixMs = receivedAtUnixMs
        self.complaint = complaint
    }
}

/// What a complaint is about, for telling whether two contacts raise the same issue: the incident
/// category and either the same product or service key or a similar description.
public struct Complaint: Sendable, Hashable {
    public var category: IncidentCategory
    public var productKey: String
    public var description: String

    public init(category: IncidentCategory, productKey: String, description: String) {
        self.category = category
        self.productKey = productKey
        self.description = description
    }

    public init(_ incident: Incident) {
        self.init(category: incident.category, productKey: incident.productKey, description: incident.description_p)
    }

    /// Whether the complaint says enough to be compared with others at all.
    public var isComparable: Bool {
        category != .incidentUnspecified && (!productKey.isEmpty || !description.isEmpty)
    }

    /// The complaint as the very same complaint is looked up: the description left out where a
    /// product key names it.
    public var comparedAs: Complaint {
        var representative = self
        if !productKey.isEmpty { representative.description = "" }
        return representative
    }
}

/// Compares complaints: same category, then the same product key, else descriptions whose folded
/// character bigrams overlap (Dice coefficient) at least as much as the policy asks.
public struct ComplaintMatcher: Sendable {
    let minimumSimilarity: Double
    private let complaint: Complaint
    /// The description's bigrams, computed on the first comparison that needs them: most
    /// comparisons are of the very same wording and need none.
    private var bigrams: Set<UInt64>?

    public init(_ complaint: Complaint, minimumSimilarity: Double) {
        self.minimumSimilarity = minimumSimilarity
        self.complaint = complaint
    }

    /// Whether `other` is the same complaint; `bigrams`, when given, keeps the bigrams of the
    /// descriptions compared for the next comparisons that meet them.
    public mutating func matches(_ other: Complaint, bigrams known: DescriptionBigrams? = nil) -> Bool {
        guard complaint.category != .incidentUnspecified, other.category == complaint.category else { return false }
        if !complaint.productKey.isEmpty || !other.productKey.isEmpty { return complaint.productKey == other.productKey }
        if !complaint.description.isEmpty, other.description == complaint.description { return true }
        let own = bigrams ?? Self.bigrams(complaint.description)
        bigrams = own
        let others = known?.of(other.description) ?? Self.bigrams(other.description)
        guard !own.isEmpty, !others.isEmpty else { return false }
        let (smaller, larger) = own.count <= others.count ? (own, others) : (others, own)
        var shared = 0
        for bigram in smaller where larger.contains(bigram) { shared += 1 }
        return 2 * Double(shared) / Double(own.count + others.count) >= minimumSimilarity
    }

    /// Character bigrams of the description folded as the detectors fold text, so that spacing,
    /// width and kana differences do not separate the same complaint.
    static func bigrams(_ text: String) -> Set<UInt64> {
        let folded = String(decoding: NormalizedText.fold(term: text), as: UTF8.self).unicodeScalars.map(\.value)
        guard folded.count >= 2 else { return Set(folded.map(UInt64.init)) }
        var result = Set<UInt64>(minimumCapacity: folded.count)
        for index in 1..<folded.count {
            result.insert(UInt64(folded[index - 1]) << 32 | UInt64(folded[index]))
        }
        return result
    }
}

/// The bigrams of descriptions, each worked out once for all the comparisons that meet it: the
/// calls read together compare with the same contacts of their category, a few hundred each.
/// One batch's, used by one task at a time.
public final class DescriptionBigrams {
    private var known: [String: Set<UInt64>] = [:]

    public init() {}

    func of(_ description: String) -> Set<UInt64> {
        if let bigrams = known[description] { return bigrams }
        let bigrams = ComplaintMatcher.bigrams(description)
        known[description] = bigrams
        return bigrams
    }
}

/// A claimant's standing before a contact: the risk and kinds of the flags still active.
public struct ClaimantStanding: Sendable, Hashable {
    public var riskLevel: RiskLevel
    public var activeFlags: [SignalKind]

    public init(riskLevel: RiskLevel = .riskLow, activeFlags: [SignalKind] = []) {
        self.riskLevel = riskLevel
        self.activeFlags = activeFlags
    }
}

/// What a history read knows of a claimant's own contacts before a call (not the call's own):
/// how many fall in the last 24 hours and 30 days, each counted up to
/// `HistoryWindows.contactCountLimit`, and the newest few in full. A claimant with 100 000
/// contacts costs a read what one with `contactCountLimit` costs.
public struct ClaimantContacts: Sendable, Hashable {
    /// The claimant's earlier contacts in the 24 hours before the call.
    public var in24h: Int
    /// The claimant's earlier contacts in the 30 days before the call.
    public var in30d: Int
    /// The newest contacts in the 30-day window, at most `HistoryWindows.newestContactsLimit`, in
    /// any order.
    public var newest: [PastContact]

    public init(in24h: Int = 0, in30d: Int = 0, newest: [PastContact] = []) {
        self.in24h = in24h
        self.in30d = in30d
        self.newest = newest
    }
}

/// The windows of the history and the rule that turns signals into a claimant's risk flags.
public enum HistoryWindows {
    public static let dayMs: Int64 = 86_400_000

    /// Counts of a claimant's contacts stop here: a claimant past it (a calling machine) reads as
    /// having this many. Every threshold of the history signals lies far below it.
    public static let contactCountLimit = 100

    /// How many of a claimant's newest contacts a history read takes in full: what the repeated-
    /// demand count and the follow-up check look at.
    public static let newestContactsLimit = 32

    /// How many contacts of other claimants one call compares at most when it looks for the same
    /// complaint by description.
    public static let similarDescriptionsLimit = 200

    /// The claimant's own contacts a store must supply: from this many milliseconds before the
    /// contact up to it.
    public static let claimantWindowMs: Int64 = 30 * dayMs

    /// The most contacts of the same complaint a look takes, the newest, whoever made them: past
    /// one claimant's 64 repeats of a complaint, other claimants' earlier ones are not seen. Each
    /// contact looked at is a row read (its claimant and description), so the limit is a call's
    /// cost when one claimant repeats a complaint.
    public static let sameComplaintLimit = 64

    /// Other claimants' contacts a store must supply for the recurring-issue check.
    public static func recurringWindowMs(_ policy: ScreeningPolicy) -> Int64 { Int64(policy.recurringIssueWindowDays) * dayMs }

    /// How long a raised flag counts toward the claimant's standing.
    public static func flagActiveMs(_ policy: ScreeningPolicy) -> Int64 { Int64(policy.riskFlagActiveDays) * dayMs }

    /// The flags a result raises on its claimant: the signals of a contact that was not a
    /// legitimate claim, of medium severity or more. A recurring issue is the business's alert,
    /// never the claimant's flag, a threat only the threat model read (unless an agent's warning
    /// joined its evidence), or a threat or coercion it doubts, is for a supervisor to weigh, not a
    /// mark on a person, and a legitimate claim never lowers its claimant's standing.
    public static func flags(raisedBy result: ScreeningResult) -> [Signal] {
        guard result.verdict == .needsReview || result.verdict == .unjustDemand else { return [] }
        return result.signals.filter { signal in
            let forASupervisor =
                !signal.evidence.isEmpty
                && signal.evidence.allSatisfy { ThreatModel.reads($0) || ThreatModel.doubts($0) }
            return signal.kind != .signalRecurringIssue && signal.severity.rawValue >= Severity.medium.rawValue && !forASupervisor
        }
    }

    /// The summary the engine screens a contact with, from the contacts a store found.
    /// - Parameters:
    ///   - claimant: the claimant's own contacts in `claimantWindowMs` before `at` (not this one).
    ///   - otherComplaints: complaints of the record's incident category in `recurringWindowMs`
    ///     before `at`, in one list or several (a store's look at the same complaint, and a look at
    ///     the category that calls share), the newest first in each (others' or the claimant's
    ///     own, in the window or not: they are filtered here; the same one twice counts once).
    ///   - bigrams: descriptions' bigrams shared with other calls that compare with the same contacts.
    public static func summarize(
        _ record: DemandRecord, at: Int64, claimant: ClaimantContacts, otherComplaints: [[ComplaintSighting]],
        standing: ClaimantStanding, policy: ScreeningPolicy, bigrams: DescriptionBigrams? = nil
    ) -> ClaimantHistory {
        let complaint = Complaint(record.incident)
        var matcher = ComplaintMatcher(complaint, minimumSimilarity: policy.recurringIssueSimilarity)
        let concreteDemands = Set(record.demands.map(\.kind)).subtracting([.demandUnspecified])
        let money = DemandedMoney(record.demands)
        var history = ClaimantHistory(standingRisk: standing.riskLevel, activeFlags: standing.activeFlags)
        history.contacts30d = UInt32(min(claimant.in30d, contactCountLimit))
        history.contacts24h = UInt32(min(claimant.in24h, contactCountLimit))
        for contact in claimant.newest where contact.recordID != record.recordID {
            guard contact.receivedAtUnixMs <= at, contact.receivedAtUnixMs > at - claimantWindowMs else { continue }
            if !concreteDemands.isDisjoint(with: contact.demandKinds) { history.repeatedDemandContacts += 1 }
            // Only an open claim, or less money than found so far, is worth comparing complaints for.
            let open = contact.verdict == .legitimateClaim || contact.verdict == .needsReview
            let less = contact.moneyDemanded.flatMap { earlier in
                earlier.currencyCode == money?.currencyCode
                    && earlier.amountMinor < history.leastEarlierMoneyDemanded?.amountMinor ?? .max ? earlier : nil
            }
            guard open || less != nil, matcher.matches(contact.complaint) else { continue }
            if open { history.hasOpenLegitimateClaim = true }
            if let less { history.leastEarlierMoneyDemanded = less }
        }
        if complaint.isComparable {
            // Only whether the threshold is reached matters: stop there, and compare each distinct
            // description once (the same wording arrives again and again).
            let enough = Int(policy.recurringIssueClaimants) - 1
            var claimants = Set<String>()
            // A product key is compared as it is; a description's verdict is kept for its next sighting.
            var matchesByDescription: [String: Bool] = [:]
            for contact in otherComplaints.joined() where contact.claimantID != record.claimantID {
                if claimants.count >= enough { break }
                guard contact.receivedAtUnixMs <= at, contact.receivedAtUnixMs > at - recurringWindowMs(policy),
                    !claimants.contains(contact.claimantID)
                else { continue }
                let matches: Bool
                if !complaint.productKey.isEmpty || !contact.complaint.productKey.isEmpty {
                    matches = matcher.matches(contact.complaint)
                } else if let known = matchesByDescription[contact.complaint.description] {
                    matches = known
                } else {
                    matches = matcher.matches(contact.complaint, bigrams: bigrams)
                    matchesByDescription[contact.complaint.description] = matches
                }
                if matches { claimants.insert(contact.claimantID) }
            }
            history.otherClaimantsWithSameComplaint = UInt32(claimants.count)
        }
        return history
    }
}

/// A history held in memory: what `demandscreen evaluate` replays a file through, so that
/// history signals come out as the daemon would raise them. Each call's look costs the same
/// however long the file: contacts, complaints and flags are kept in time order and found by
/// binary search, and each look takes at most as many as a store's read does.
public struct HistoryBook: Sendable {
    private var contactsByClaimant: [String: TimeOrdered<PastContact>] = [:]
    /// The same complaint (`Complaint.comparedAs`): the store's same-complaint look.
    private var sightingsByComplaint: [Complaint: TimeOrdered<ComplaintSighting>] = [:]
    /// Complaints without a product key, by category: the store's look at other wordings.
    private var describedByCategory: [IncidentCategory: TimeOrdered<ComplaintSighting>] = [:]
    private var flagTimes: [FlagKey: TimeOrdered<Int64>] = [:]
    private var flagKeysByClaimant: [String: Set<FlagKey>] = [:]
    private var resultsByRecord: [String: ScreeningResult] = [:]

    private struct FlagKey: Hashable, Sendable {
        var claimantID: String
        var kind: SignalKind
        var risk: RiskLevel
    }

    public init() {}

    /// The stored result of a record already screened (the idempotent answer to a retry).
    public func storedResult(recordID: String) -> ScreeningResult? { resultsByRecord[recordID] }

    /// The summary to screen `record` with, as of `at`.
    public func history(for record: DemandRecord, at: Int64, policy: ScreeningPolicy) -> ClaimantHistory {
        let activeSince = at - HistoryWindows.flagActiveMs(policy)
        var standing = ClaimantStanding()
        var kinds = Set<SignalKind>()
        for key in flagKeysByClaimant[record.claimantID] ?? [] where flagTimes[key]?.contains(after: activeSince, upTo: at) == true {
            kinds.insert(key.kind)
            standing.riskLevel = standing.riskLevel.raised(to: key.risk)
        }
        standing.activeFlags = kinds.sorted { $0.rawValue < $1.rawValue }

        var claimant = ClaimantContacts()
        if let contacts = contactsByClaimant[record.claimantID] {
            let window = contacts.range(after: at - HistoryWindows.claimantWindowMs, upTo: at)
            claimant.in30d = window.count
            claimant.in24h = contacts.range(after: at - HistoryWindows.dayMs, upTo: at).count
            claimant.newest = Array(contacts.items[window].suffix(HistoryWindows.newestContactsLimit))
        }
        let complaint = Complaint(record.incident)
        let since = at - HistoryWindows.recurringWindowMs(policy)
        var others: [[ComplaintSighting]] = []
        if complaint.isComparable {
            for (list, limit) in [
                (sightingsByComplaint[complaint.comparedAs], HistoryWindows.sameComplaintLimit),
                (complaint.productKey.isEmpty ? describedByCategory[complaint.category] : nil, HistoryWindows.similarDescriptionsLimit),
            ] {
                guard let list else { continue }
                others.append(Array(list.items[list.range(after: since, upTo: at)].suffix(limit).reversed()))
            }
        }
        return HistoryWindows.summarize(record, at: at, claimant: claimant, otherComplaints: others, standing: standing, policy: policy)
    }

    /// Screens `record` as the daemon would at `at` and keeps it: `judge` gets the history built
    /// so far; a record id seen before gets its kept result and changes nothing.
    public mutating func screen(
        _ record: DemandRecord, at: Int64, policy: ScreeningPolicy, judge: (ClaimantHistory) -> ScreeningResult
    ) -> ScreeningResult {
        if let kept = storedResult(recordID: record.recordID) { return kept }
        let result = judge(history(for: record, at: at, policy: policy))
        append(record, result: result, at: at)
        return result
    }

    /// Keeps a screened contact; a record id seen before is ignored.
    public mutating func append(_ record: DemandRecord, result: ScreeningResult, at: Int64) {
        guard resultsByRecord[record.recordID] == nil else { return }
        resultsByRecord[record.recordID] = result
        let contact = PastContact(record: record, result: result, receivedAtUnixMs: at)
        contactsByClaimant[record.claimantID, default: TimeOrdered()].insert(contact, at: at)
        if contact.complaint.isComparable {
            let sighting = ComplaintSighting(claimantID: contact.claimantID, receivedAtUnixMs: at, complaint: contact.complaint)
            sightingsByComplaint[contact.complaint.comparedAs, default: TimeOrdered()].insert(sighting, at: at)
            if contact.complaint.productKey.isEmpty {
                describedByCategory[contact.complaint.category, default: TimeOrdered()].insert(sighting, at: at)
            }
        }
        for flag in HistoryWindows.flags(raisedBy: result) {
            let key = FlagKey(claimantID: record.claimantID, kind: flag.kind, risk: result.riskLevel)
            flagTimes[key, default: TimeOrdered()].insert(at, at: at)
            flagKeysByClaimant[record.claimantID, default: []].insert(key)
        }
    }
}

/// Items kept in the order of their times (equal times in arrival order), so that the items of a
/// window are found by binary search. Appending in time order, the usual case, costs no move.
struct TimeOrdered<Element: Sendable>: Sendable {
    private(set) var items: [Element] = []
    private var times: [Int64] = []

    mutating func insert(_ item: Element, at time: Int64) {
        let index = firstIndex(after: time)
        items.insert(item, at: index)
        times.insert(time, at: index)
    }

    /// The indices of the items with `since < time <= until`.
    func range(after since: Int64, upTo until: Int64) -> Range<Int> {
        let start = firstIndex(after: since)
        return start..<max(start, firstIndex(after: until))
    }

    func contains(after since: Int64, upTo until: Int64) -> Bool { !range(after: since, upTo: until).isEmpty }

    /// The index of the first item whose time is after `time`.
    private func firstIndex(after time: Int64) -> Int {
        var low = 0
        var high = times.count
        while low < high {
            let middle = (low + high) / 2
            if times[middle] <= time { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension RiskLevel {
    /// The higher of this level and `other`.
    public func raised(to other: RiskLevel) -> RiskLevel { other.rawValue > rawValue ? other : self }
}

/// Groups contacts into recurring issues: the same complaint (see `ComplaintMatcher`) from at
/// least the policy's number of different claimants. Pure, so that the stores and `evaluate`
/// report the same alerts.
public enum RecurringIssueFinder {
    /// The issues in `contacts` (oldest first), the most widespread first.
    public static func issues(in contacts: [PastContact], policy: ScreeningPolicy) -> [RecurringIssue] {
        var groups: [(matcher: ComplaintMatcher, first: PastContact, members: [PastContact], claimants: Set<String>)] = []
        for contact in contacts where contact.complaint.isComparable {
            if let index = groups.indices.first(where: { groups[$0].matcher.matches(contact.complaint) }) {
                groups[index].members.append(contact)
                groups[index].claimants.insert(contact.claimantID)
            } else {
                groups.append(
                    (
                        ComplaintMatcher(contact.complaint, minimumSimilarity: policy.recurringIssueSimilarity), contact, [contact],
                        [contact.claimantID]
                    ))
            }
        }
        return
            groups
            .filter { $0.claimants.count >= Int(policy.recurringIssueClaimants) }
            .sorted {
                ($0.claimants.count, $0.members.last?.receivedAtUnixMs ?? 0) > ($1.claimants.count, $1.members.last?.receivedAtUnixMs ?? 0)
            }
            .map { group in
                var issue = RecurringIssue()
                issue.category = group.first.complaint.category
                issue.representativeDescription = group.first.complaint.description
                issue.productKey = group.first.complaint.productKey
                issue.claimantCount = UInt32(group.claimants.count)
                issue.recordIds = group.members.map(\.recordID)
                issue.firstSeenUnixMs = group.members.map(\.receivedAtUnixMs).min() ?? 0
                issue.lastSeenUnixMs = group.members.map(\.receivedAtUnixMs).max() ?? 0
                return issue
            }
    }
}
