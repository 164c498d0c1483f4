import DemandScreenAPI
import ScreeningEngine

/// A batch's requests and what its reads have found so far.
struct HistoryBatch {
    let requests: [HistoryRequest]
    let complaints: [Complaint]
    let keys: ComplaintKeys
    /// The stored results of records screened before, by record id.
    var stored: [String: [UInt8]] = [:]
    /// Each request's contacts of the same complaint (its own claimant's among them: the summary
    /// leaves those out).
    var sightings: [[ComplaintSighting]]
    /// The contacts of each look at a category's contacts, which its calls share.
    var categorySightings: [[ComplaintSighting]] = []
    /// The look at its category's contacts that each request shares, if any.
    var categoryLookOf: [Int?]
    /// Whether each group's first look took as many rows as it asked for: more may lie further back.
    var lookCutShort: [Bool]

    init(_ requests: [HistoryRequest]) {
        self.requests = requests
        complaints = requests.map { Complaint($0.record.incident) }
        keys = ComplaintKeys(complaints)
        sightings = Array(repeating: [], count: requests.count)
        categoryLookOf = Array(repeating: nil, count: requests.count)
        lookCutShort = Array(repeating: false, count: keys.groups.count)
    }

    /// The complaints a request's history compares with: the same complaint's contacts, then
    /// those of the category look it shares (which the summary filters by claimant and window).
    func otherComplaints(of index: Int) -> [[ComplaintSighting]] {
        guard let look = categoryLookOf[index] else { return [sightings[index]] }
        return [sightings[index], categorySightings[look]]
    }

    /// Takes the rows of `ComplaintKeys.newestSightings` for `groups`.
    mutating func takeFirstLooks(of groups: [Int], _ statements: ArraySlice<[SQLRow]>) throws(StoredRowError) {
        guard !groups.isEmpty else { return }
        var byPart: [Int: [SQLRow]] = [:]
        for row in statements.joined() { byPart[Int(try row.integer(0)), default: []].append(row) }
        for group in groups {
            let newer = byPart[group] ?? []
            let older = byPart[keys.olderPart(of: group)] ?? []
            lookCutShort[group] = older.count >= HistoryReads.newestSightings || newer.count >= keys.newerLimit(of: group)
            let found = newer + older
            for index in keys.groups[group] {
                sightings[index] = try found.map { row throws(StoredRowError) in
                    ComplaintSighting(claimantID: try row.text(1), receivedAtUnixMs: try row.integer(2), complaint: complaints[index])
                }
            }
        }
    }
}

/// The second look for the calls whose same-complaint contacts do not yet show enough other
/// claimants: further back when the first look was cut short (one claimant repeating the
/// complaint, or many calls between the batch's earliest and latest), and contacts of the same
/// category with other descriptions when there is no product key: one look per category for all
/// the calls that need it, since most complaints' wording is their own and nearly every call
/// needs it.
struct SecondLooks {
    private(set) var statements: [SQLStatement] = []
    private var furtherBackCount = 0
    /// The calls that share each look at a category's contacts.
    private var similarGroups: [[Int]] = []

    init(for indices: [Int], in batch: HistoryBatch) {
        var furtherBackLooks: [Branch] = []
        var similarGroupOf: [IncidentCategory: Int] = [:]
        for index in indices {
            let request = batch.requests[index]
            let complaint = batch.complaints[index]
            guard batch.stored[request.record.recordID] == nil else { continue }
            let enough = Int(request.policy.recurringIssueClaimants) - 1
            guard !HistoryReads.showEnoughClaimants(batch.sightings[index], for: request, enough: enough) else { continue }
            if let group = batch.keys.groupOf[index], batch.lookCutShort[group] {
                furtherBackLooks.append(HistoryReads.furtherBack(index, request, complaint))
            }
            if complaint.productKey.isEmpty {
                if let group = similarGroupOf[complaint.category] {
                    similarGroups[group].append(index)
                } else {
                    similarGroupOf[complaint.category] = similarGroups.count
                    similarGroups.append([index])
                }
            }
        }
        let furtherBack = Branch.unions(furtherBackLooks)
        furtherBackCount = furtherBack.count
        statements =
            furtherBack
            + Branch.unions(
                similarGroups.indices.map { HistoryReads.similarDescriptions($0, similarGroups[$0], batch.requests, batch.complaints) })
    }

    /// Adds the rows of `statements` to the calls' sightings and category looks.
    func take(_ found: ArraySlice<[SQLRow]>, into batch: inout HistoryBatch) throws(StoredRowError) {
        for row in found.prefix(furtherBackCount).joined() {
            let index = Int(try row.integer(0))
            var complaint = batch.complaints[index]
            complaint.description = try row.text(3)
            batch.sightings[index].append(
                ComplaintSighting(claimantID: try row.text(1), receivedAtUnixMs: try row.integer(2), complaint: complaint))
        }
        // A category look's rows are the same complaints for each of its calls: kept once, shared.
        let categories = similarGroups.map { batch.complaints[$0[0]].category }
        var looks = similarGroups.map { _ in [ComplaintSighting]() }
        for row in found.dropFirst(furtherBackCount).joined() {
            let group = Int(try row.integer(0))
            looks[group].append(
                ComplaintSighting(
                    claimantID: try row.text(1), receivedAtUnixMs: try row.integer(2),
                    complaint: Complaint(category: categories[group], productKey: "", description: try row.text(3))))
        }
        for (group, members) in similarGroups.enumerated() {
            for index in members { batch.categoryLookOf[index] = batch.categorySightings.count }
            batch.categorySightings.append(looks[group])
        }
    }
}

/// The comparable requests of a batch grouped by what makes two complaints the very same: the
/// category and the product key, or, without one, the exact description. One look at the newest
/// contacts serves each group.
struct ComplaintKeys {
    /// Each group's complaint as compared (`Complaint.comparedAs`).
    private(set) var representatives: [Complaint] = []
    /// Each group's members (request indices).
    private(set) var groups: [[Int]] = []
    /// The group of each request; nil for one too vague to compare.
    private(set) var groupOf: [Int?]

    init(_ complaints: [Complaint]) {
        groupOf = Array(repeating: nil, count: complaints.count)
        var byRepresentative: [Complaint: Int] = [:]
        for (index, complaint) in complaints.enumerated() where complaint.isComparable {
            let representative = complaint.comparedAs
            let group: Int
            if let known = byRepresentative[representative] {
                group = known
            } else {
                group = groups.count
                byRepresentative[representative] = group
                representatives.append(representative)
                groups.append([])
            }
            groups[group].append(index)
            groupOf[index] = group
        }
    }

    /// The rows of a group's older part are tagged `groups.count + group`; its newer part's, `group`.
    func olderPart(of group: Int) -> Int { groups.count + group }

    /// How many rows a group's newer part takes: enough for each member to find its newest sightings.
    func newerLimit(of group: Int) -> Int { HistoryReads.newestSightings + groups[group].count - 1 }

    /// `part, claimant_id, received_at_ms`: the listed groups' contacts of the same complaint in
    /// two parts, one branch each (numbers bound, not written into the text, for the reason given
    /// at `Branch`). The older part is the newest `newestSightings` up to the earliest member's
    /// time, which every member may count; the newer part, those between the earliest and the
    /// latest member's times (as many as there are members, and more: calls arrive out of order,
    /// and their times can be far apart). A single look back from the latest member's time would
    /// leave the earlier members nothing they may count when the others' contacts crowd it.
    func newestSightings(_ requests: [HistoryRequest], groups listed: [Int]) -> [SQLStatement] {
        Branch.unions(
            listed.flatMap { group in
                let complaint = representatives[group]
                let (since, earliest, latest) = HistoryReads.times(of: groups[group], requests)
                func part(_ tag: Int, after: Int64, upTo: Int64, limit: Int) -> Branch {
                    Branch(
                        sql: """
                            SELECT ? AS part, claimant_id, received_at_ms FROM contacts \
                            WHERE incident_category = ? AND product_key = ? AND received_at_ms > ? AND received_at_ms <= ? \
                            \(HistoryReads.sameComplaint(complaint)) ORDER BY received_at_ms DESC LIMIT ?
                            """,
                        binds: [
                            .integer(Int64(tag)), .integer(Int64(complaint.category.rawValue)), .text(complaint.productKey),
                            .integer(after), .integer(upTo),
                        ] + HistoryReads.sameComplaintBinds(complaint) + [.integer(Int64(limit))])
                }
                let older = part(olderPart(of: group), after: since, upTo: earliest, limit: HistoryReads.newestSightings)
                guard latest > earliest else { return [older] }
                return [older, part(group, after: earliest, upTo: latest, limit: newerLimit(of: group))]
            })
    }

    /// `group`: those of the listed groups with any contact of their complaint in their members'
    /// windows, in at most two statements (complaints named by a product key, and by their
    /// description) whatever the number of groups.
    func presence(_ requests: [HistoryRequest], groups listed: [Int], dialect: SQLDialect) -> [SQLStatement] {
        var keyed: [[SQLValue]] = []
        var described: [[SQLValue]] = []
        for group in listed {
            let complaint = representatives[group]
            let (since, _, latest) = HistoryReads.times(of: groups[group], requests)
            let window: [SQLValue] = [.integer(since), .integer(latest)]
            let head: [SQLValue] = [.integer(Int64(group)), .integer(Int64(complaint.category.rawValue))]
            if complaint.productKey.isEmpty {
                described.append(head + HistoryReads.sameComplaintBinds(complaint) + window)
            } else {
                keyed.append(head + [.text(complaint.productKey)] + window)
            }
        }
        return (keyed.isEmpty ? [] : [SQLStatement(KeyedComplaintsPresent.self, rows: keyed, dialect: dialect)])
            + (described.isEmpty ? [] : [SQLStatement(DescribedComplaintsPresent.self, rows: described, dialect: dialect)])
    }
}
