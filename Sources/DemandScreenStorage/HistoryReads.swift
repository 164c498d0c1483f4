import DemandScreenAPI
import ScreeningEngine
import SwiftProtobuf
import Synchronization

/// A record about to be screened, with the time and the policy it is screened at: one call's
/// share of a batched history read.
struct HistoryRequest: Sendable {
    var record: DemandRecord
    var at: Int64
    var policy: ScreeningPolicy
}

/// The history reads of many Screen calls at once, in set-based statements: a batch of calls
/// costs the same few statements (up to three trips to SQLite's reader threads, or a few round
/// trips to PostgreSQL, all but the looks at complaints' contacts prepared once per connection)
/// whatever its size, instead of four statements per call. The same SQL runs on both backends,
/// but for the per-claimant joins (`ClaimantContacts`, `ActiveFlags`).
enum HistoryReads {
    /// How many of the newest same-complaint contacts the first look takes per call: they nearly
    /// always hold enough other claimants; only when they do not (one claimant repeating the
    /// complaint) does a second look go further back.
    static let newestSightings = 16

    /// For each request, its stored result when the record was screened before, else the history
    /// to screen it with. The first read takes the stored results, the claimants' contacts and
    /// flags, the newest contacts of the complaints `known` holds, and, for the others, whether
    /// any contact of theirs is in the window at all: most complaints in their own words have
    /// none, and on PostgreSQL each look at a complaint's newest contacts is a statement branch
    /// planned on every call (0.3 ms each), where one statement asks for all of them. A second
    /// read looks at the newest contacts of the complaints found, and further (`SecondLooks`) for
    /// the calls whose first look did not show enough other claimants; a third takes the second
    /// looks of the calls whose first look came in the second.
    static func prepare(
        _ requests: [HistoryRequest], in database: any SQLDatabase, known: KnownComplaints
    ) async throws -> [ContactStore.Preparation] {
        var batch = HistoryBatch(requests)
        let keys = batch.keys
        let familiar = known.filter(keys.groups.indices, by: keys.representatives)
        let unfamiliar = keys.groups.indices.filter { !familiar.contains($0) }
        let firstLooks = keys.newestSightings(requests, groups: familiar)
        let presence = keys.presence(requests, groups: unfamiliar, dialect: database.dialect)
        let rows = try await database.read(
            [
                storedResults(requests, dialect: database.dialect), claimantContacts(requests, dialect: database.dialect),
                activeFlags(requests, dialect: database.dialect), claimantCounts(requests, dialect: database.dialect),
            ] + firstLooks + presence)

        for row in rows[0] { batch.stored[row.text(0)] = row.blob(1) }
        var claimants = Array(repeating: ClaimantContacts(), count: requests.count)
        for row in rows[1] { claimants[Int(row.integer(0))].newest.append(ContactStore.pastContact(row, from: 1)) }
        var standings = Array(repeating: ClaimantStanding(), count: requests.count)
        for row in rows[2] {
            let index = Int(row.integer(0))
            standings[index].activeFlags.append(SignalKind(rawValue: Int(row.integer(1))) ?? .signalUnspecified)
            standings[index].riskLevel = standings[index].riskLevel.raised(to: RiskLevel(rawValue: Int(row.integer(2))) ?? .riskLow)
        }
        for row in rows[3] {
            let index = Int(row.integer(0))
            claimants[index].in30d = Int(row.integer(1))
            claimants[index].in24h = Int(row.integer(2))
        }
        batch.takeFirstLooks(of: familiar, rows[4..<(4 + firstLooks.count)])
        let present = Set(rows[(4 + firstLooks.count)...].joined().map { Int($0.integer(0)) })
        known.insert(present.map { keys.representatives[$0] })

        // Calls whose first look is done, and complaints whose first look is still to come.
        var ready = (familiar + unfamiliar.filter { !present.contains($0) }).flatMap { keys.groups[$0] }
        var pending = unfamiliar.filter { present.contains($0) }
        repeat {
            let looks = SecondLooks(for: ready, in: batch)
            let pendingLooks = keys.newestSightings(requests, groups: pending)
            if !looks.statements.isEmpty || !pendingLooks.isEmpty {
                let found = try await database.read(pendingLooks + looks.statements)
                batch.takeFirstLooks(of: pending, found[..<pendingLooks.count])
                looks.take(found[pendingLooks.count...], into: &batch)
            }
            ready = pending.flatMap { keys.groups[$0] }
            pending = []
        } while !ready.isEmpty

        let bigrams = DescriptionBigrams()
        return try requests.enumerated().map { index, request in
            if let result = batch.stored[request.record.recordID] {
                return .alreadyScreened(try ScreenAnswer(stored: result))
            }
            standings[index].activeFlags.sort { $0.rawValue < $1.rawValue }
            return .newContact(
                HistoryWindows.summarize(
                    request.record, at: request.at, claimant: claimants[index], otherComplaints: batch.otherComplaints(of: index),
                    standing: standings[index], policy: request.policy, bigrams: bigrams))
        }
    }

    /// Whether the sightings in the request's window show `enough` distinct claimants other than
    /// the request's own (it stops counting there).
    fileprivate static func showEnoughClaimants(_ sightings: [ComplaintSighting], for request: HistoryRequest, enough: Int) -> Bool {
        let since = request.at - HistoryWindows.recurringWindowMs(request.policy)
        var seen: [String] = []
        for sighting in sightings
        where sighting.receivedAtUnixMs > since && sighting.receivedAtUnixMs <= request.at
            && sighting.claimantID != request.record.claimantID && !seen.contains(sighting.claimantID)
        {
            seen.append(sighting.claimantID)
            if seen.count >= enough { return true }
        }
        return seen.count >= enough
    }

    /// The times that bound a look for some of the requests: the earliest start of their
    /// recurring-issue windows, and the earliest and latest of their times.
    fileprivate static func times(of members: [Int], _ requests: [HistoryRequest]) -> (since: Int64, earliest: Int64, latest: Int64) {
        (
            members.map { requests[$0].at - HistoryWindows.recurringWindowMs(requests[$0].policy) }.min() ?? 0,
            members.map { requests[$0].at }.min() ?? 0, members.map { requests[$0].at }.max() ?? 0
        )
    }

    /// `record_id, result` of the requests' records that are stored already.
    private static func storedResults(_ requests: [HistoryRequest], dialect: SQLDialect) -> SQLStatement {
        SQLStatement(StoredResults.self, rows: requests.map { [.text($0.record.recordID)] }, dialect: dialect)
    }

    /// The requests' claimants as rows of `ClaimantWindows`: `idx, claimant_id, since_ms, until_ms`.
    private static func claimantWindows(_ requests: [HistoryRequest], since: (HistoryRequest) -> Int64) -> [[SQLValue]] {
        requests.enumerated().map { index, request in
            [.integer(Int64(index)), .text(request.record.claimantID), .integer(since(request)), .integer(request.at)]
        }
    }

    /// `idx, <past contact columns>`: each request's claimant's contacts in the claimant window
    /// up to its time, the newest `HistoryWindows.newestContactsLimit`.
    private static func claimantContacts(_ requests: [HistoryRequest], dialect: SQLDialect) -> SQLStatement {
        SQLStatement(
            NewestClaimantContacts.self, rows: claimantWindows(requests) { $0.at - HistoryWindows.claimantWindowMs },
            dialect: dialect)
    }

    /// `idx, in 30 days, in 24 hours`: each request's claimant's contacts before its time,
    /// counted up to `HistoryWindows.contactCountLimit`.
    private static func claimantCounts(_ requests: [HistoryRequest], dialect: SQLDialect) -> SQLStatement {
        SQLStatement(
            ClaimantContactCounts.self,
            rows: requests.enumerated().map { index, request in
                [
                    .integer(Int64(index)), .text(request.record.claimantID), .integer(request.at - HistoryWindows.claimantWindowMs),
                    .integer(request.at - HistoryWindows.dayMs), .integer(request.at),
                ]
            }, dialect: dialect)
    }

    /// `idx, kind, highest risk`: the flags raised on each request's claimant that are still active.
    private static func activeFlags(_ requests: [HistoryRequest], dialect: SQLDialect) -> SQLStatement {
        SQLStatement(ActiveFlags.self, rows: claimantWindows(requests) { $0.at - HistoryWindows.flagActiveMs($0.policy) }, dialect: dialect)
    }

    /// `idx, claimant_id, received_at_ms, description`: the same complaint from other claimants
    /// further back than the first look, one row per claimant.
    fileprivate static func furtherBack(_ index: Int, _ request: HistoryRequest, _ complaint: Complaint) -> Branch {
        Branch(
            sql: """
            SELECT ? AS idx, claimant_id, MAX(received_at_ms) AS received_at_ms, MAX(description) AS description FROM (\
            SELECT claimant_id, received_at_ms, description FROM contacts WHERE incident_category = ? AND product_key = ? \
            AND received_at_ms > ? AND received_at_ms <= ? AND claimant_id <> ? \(sameComplaint(complaint)) \
            ORDER BY received_at_ms DESC LIMIT 500) AS recent GROUP BY claimant_id
            """,
            binds: [.integer(Int64(index))] + sameCategoryWindow(request, complaint) + sameComplaintBinds(complaint)
        )
    }

    /// `group, claimant_id, received_at_ms, description`: the most recent contacts of one category
    /// without a product key, up to the latest time of the group's calls, to compare by description
    /// (each call's summary counts those in its own window, from other claimants). The limit
    /// bounds the rows walked: a category's contacts are not walked to the end of the window on
    /// every batch.
    fileprivate static func similarDescriptions(_ group: Int, _ members: [Int], _ requests: [HistoryRequest], _ complaints: [Complaint]) -> Branch {
        let (after, _, upTo) = times(of: members, requests)
        return Branch(
            sql: """
                SELECT ? AS idx, claimant_id, received_at_ms, description FROM contacts WHERE incident_category = ? \
                AND product_key = '' AND received_at_ms > ? AND received_at_ms <= ? ORDER BY received_at_ms DESC LIMIT ?
                """,
            binds: [
                .integer(Int64(group)), .integer(Int64(complaints[members[0]].category.rawValue)), .integer(after), .integer(upTo),
                .integer(Int64(HistoryWindows.similarDescriptionsLimit + members.count - 1)),
            ])
    }

    /// The condition that makes a contact of the same category and product key the same
    /// complaint: nothing more when the product key names it, else the same description, which
    /// `contacts_by_complaint` finds by its first 200 characters. The expression must be the
    /// index's, word for word, compared with a value; and the whole description is compared as
    /// `description || ''`, because SQLite would otherwise put the value of `description = ?`
    /// into `substr(description, …)` (constant propagation) and no longer see the index (checked
    /// with EXPLAIN QUERY PLAN). Two texts, so that the statement cache holds both.
    static func sameComplaint(_ complaint: Complaint) -> String {
        complaint.productKey.isEmpty ? "AND substr(description, 1, 200) = ? AND description || '' = ?" : ""
    }

    /// The values `sameComplaint` binds: the description's first 200 characters (code points, as
    /// both databases count them in `substr`), then all of it.
    static func sameComplaintBinds(_ complaint: Complaint) -> [SQLValue] {
        guard complaint.productKey.isEmpty else { return [] }
        let prefix = String(String.UnicodeScalarView(complaint.description.unicodeScalars.prefix(200)))
        return [.text(prefix), .text(complaint.description)]
    }

    private static func sameCategoryWindow(_ request: HistoryRequest, _ complaint: Complaint) -> [SQLValue] {
        [
            .integer(Int64(complaint.category.rawValue)), .text(complaint.productKey),
            .integer(request.at - HistoryWindows.recurringWindowMs(request.policy)), .integer(request.at),
            .text(request.record.claimantID),
        ]
    }
}

/// A batch's requests and what its reads have found so far.
private struct HistoryBatch {
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
    mutating func takeFirstLooks(of groups: [Int], _ statements: ArraySlice<[SQLRow]>) {
        guard !groups.isEmpty else { return }
        var byPart: [Int: [SQLRow]] = [:]
        for row in statements.joined() { byPart[Int(row.integer(0)), default: []].append(row) }
        for group in groups {
            let newer = byPart[group] ?? []
            let older = byPart[keys.olderPart(of: group)] ?? []
            lookCutShort[group] = older.count >= HistoryReads.newestSightings || newer.count >= keys.newerLimit(of: group)
            let found = newer + older
            for index in keys.groups[group] {
                sightings[index] = found.map {
                    ComplaintSighting(claimantID: $0.text(1), receivedAtUnixMs: $0.integer(2), complaint: complaints[index])
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
private struct SecondLooks {
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
        statements = furtherBack
            + Branch.unions(
                similarGroups.indices.map { HistoryReads.similarDescriptions($0, similarGroups[$0], batch.requests, batch.complaints) })
    }

    /// Adds the rows of `statements` to the calls' sightings and category looks.
    func take(_ found: ArraySlice<[SQLRow]>, into batch: inout HistoryBatch) {
        for row in found.prefix(furtherBackCount).joined() {
            let index = Int(row.integer(0))
            var complaint = batch.complaints[index]
            complaint.description = row.text(3)
            batch.sightings[index].append(ComplaintSighting(claimantID: row.text(1), receivedAtUnixMs: row.integer(2), complaint: complaint))
        }
        // A category look's rows are the same complaints for each of its calls: kept once, shared.
        let categories = similarGroups.map { batch.complaints[$0[0]].category }
        var looks = similarGroups.map { _ in [ComplaintSighting]() }
        for row in found.dropFirst(furtherBackCount).joined() {
            let group = Int(row.integer(0))
            looks[group].append(
                ComplaintSighting(
                    claimantID: row.text(1), receivedAtUnixMs: row.integer(2),
                    complaint: Complaint(category: categories[group], productKey: "", description: row.text(3))))
        }
        for (group, members) in similarGroups.enumerated() {
            for index in members { batch.categoryLookOf[index] = batch.categorySightings.count }
            batch.categorySightings.append(looks[group])
        }
    }
}

/// One request's query in a statement that unites many: its text depends on nothing but the kind
/// of query and whether the complaint has a product key, so that a united statement's text
/// depends only on how many branches of one text it unites (SQLite keeps one prepared statement
/// per text: united in any mix, the texts would be without number).
private struct Branch {
    var sql: String
    var binds: [SQLValue]

    /// One statement per distinct branch text, uniting the branches of that text.
    static func unions(_ branches: [Branch]) -> [SQLStatement] {
        var texts: [String] = []
        var byText: [String: [Branch]] = [:]
        for branch in branches {
            if byText[branch.sql] == nil { texts.append(branch.sql) }
            byText[branch.sql, default: []].append(branch)
        }
        return texts.map { union(byText[$0, default: []]) }
    }

    private static func union(_ branches: [Branch]) -> SQLStatement {
        SQLStatement(
            branches.indices.map { "SELECT * FROM (\(branches[$0].sql)) AS branch\($0)" }.joined(separator: " UNION ALL "),
            branches.flatMap(\.binds))
    }
}

/// The comparable requests of a batch grouped by what makes two complaints the very same: the
/// category and the product key, or, without one, the exact description. One look at the newest
/// contacts serves each group.
private struct ComplaintKeys {
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

/// `group` of each wanted complaint named by a product key that has a contact in its window.
private enum KeyedComplaintsPresent: RowsStatement {
    static let columns: [SQLColumnType] = [.integer, .integer, .text, .integer, .integer]
    static func template(_ dialect: SQLDialect) -> String {
        """
        WITH wanted (grp, category, key, after_ms, up_to_ms) AS ({rows}) SELECT grp FROM wanted WHERE EXISTS (\
        SELECT 1 FROM contacts WHERE incident_category = wanted.category AND product_key = wanted.key \
        AND received_at_ms > wanted.after_ms AND received_at_ms <= wanted.up_to_ms)
        """
    }
}

/// `group` of each wanted complaint without a product key that has a contact with its very
/// description in its window, found by `contacts_by_complaint` (the index's expression word for
/// word, as at `HistoryReads.sameComplaint`; the whole description needs no `|| ''` here, as the
/// value it is compared with is a column of `wanted`, not a constant SQLite could propagate:
/// EXPLAIN QUERY PLAN shows the index). No order and no limit: with them PostgreSQL's planner,
/// which plans the lateral look without the wanted values, walked the category by time.
private enum DescribedComplaintsPresent: RowsStatement {
    static let columns: [SQLColumnType] = [.integer, .integer, .text, .text, .integer, .integer]
    static func template(_ dialect: SQLDialect) -> String {
        """
        WITH wanted (grp, category, prefix, whole, after_ms, up_to_ms) AS ({rows}) SELECT grp FROM wanted WHERE EXISTS (\
        SELECT 1 FROM contacts WHERE incident_category = wanted.category AND product_key = '' \
        AND substr(description, 1, 200) = wanted.prefix AND description = wanted.whole \
        AND received_at_ms > wanted.after_ms AND received_at_ms <= wanted.up_to_ms)
        """
    }
}

/// The complaints a store has seen stored, as a batch's reads group them (`Complaint.comparedAs`):
/// written through it, or found by a batch's look. A batch looks at their newest contacts at
/// once; of the others it first asks whether any is stored (`ComplaintKeys.presence`). Forgetting
/// one costs that question, never a sighting; so when it holds `capacity` it starts anew (at most
/// about 5 MB: a description holds at most 1 KB, a product key 256 bytes).
final class KnownComplaints: Sendable {
    static let capacity = 4096
    private let known = Mutex(Set<Complaint>())

    /// The indices whose complaint in `complaints` is known.
    func filter(_ indices: Range<Int>, by complaints: [Complaint]) -> [Int] {
        known.withLock { known in indices.filter { known.contains(complaints[$0]) } }
    }

    func insert(_ complaints: some Sequence<Complaint>) {
        known.withLock { known in
            for complaint in complaints {
                if known.count >= Self.capacity { known.removeAll(keepingCapacity: true) }
                known.insert(complaint)
            }
        }
    }
}

/// Statements over one window per request: rows of `idx, claimant_id, since_ms, until_ms`.
private protocol ClaimantWindowStatement: RowsStatement {}

extension ClaimantWindowStatement {
    static var columns: [SQLColumnType] { [.integer, .text, .integer, .integer] }
    static var wanted: String { "WITH wanted (idx, claimant_id, since_ms, until_ms) AS ({rows})" }
}

/// `idx, <past contact columns>`: each window's claimant's newest contacts in it. On PostgreSQL a
/// lateral join, so that each claimant is an index scan whatever the statistics say (a plain join
/// lets a planner misled by lagging statistics hash the whole table). SQLite has no lateral
/// joins: each claimant's newest rows are a correlated list of row ids, read from the covering
/// `contacts_by_claimant` index, and the rows are then fetched by id (ranking the joined rows with
/// `ROW_NUMBER()` would sort every batch's rows in a temporary B-tree). The rows come per window
/// in row-id order, not newest first.
private enum NewestClaimantContacts: ClaimantWindowStatement {
    static func template(_ dialect: SQLDialect) -> String {
        let columns = ContactStore.pastContactColumns
        let limit = HistoryWindows.newestContactsLimit
        let newest = """
            SELECT \(dialect == .postgres ? columns : "rowid") FROM contacts WHERE claimant_id = wanted.claimant_id \
            AND received_at_ms > wanted.since_ms AND received_at_ms <= wanted.until_ms \
            ORDER BY received_at_ms DESC LIMIT \(limit)
            """
        switch dialect {
        case .postgres:
            return "\(wanted) SELECT wanted.idx, c.* FROM wanted CROSS JOIN LATERAL (\(newest)) AS c"
        case .sqlite:
            let qualified = columns.split(separator: ", ").map { "c.\($0)" }.joined(separator: ", ")
            return "\(wanted) SELECT wanted.idx, \(qualified) FROM wanted JOIN contacts c ON c.rowid IN (\(newest))"
        }
    }
}

/// `idx, in 30 days, in 24 hours`: each claimant's contacts in the two windows, each counted from
/// the covering `contacts_by_claimant` index and only up to `HistoryWindows.contactCountLimit`,
/// so that a claimant with 100 000 contacts costs what one with the limit costs. The same text on
/// both backends (a correlated scalar subquery over a limited one).
private enum ClaimantContactCounts: RowsStatement {
    static let columns: [SQLColumnType] = [.integer, .text, .integer, .integer, .integer]
    static func template(_ dialect: SQLDialect) -> String {
        func count(since: String) -> String {
            """
            (SELECT COUNT(*) FROM (SELECT 1 FROM contacts WHERE claimant_id = wanted.claimant_id \
            AND received_at_ms > wanted.\(since) AND received_at_ms <= wanted.until_ms \
            LIMIT \(HistoryWindows.contactCountLimit)) AS counted)
            """
        }
        return """
            WITH wanted (idx, claimant_id, month_ms, day_ms, until_ms) AS ({rows}) \
            SELECT wanted.idx, \(count(since: "month_ms")), \(count(since: "day_ms")) FROM wanted
            """
    }
}

/// `idx, kind, highest risk`: the kinds of flag raised on each window's claimant in it, with the
/// highest risk of each. One index look (`risk_flags_by_claimant_kind`) per kind and risk level
/// asks whether any flag of them lies in the window: a claimant with 100 000 flags costs what one
/// with a single flag costs, and the answer is exact.
private enum ActiveFlags: ClaimantWindowStatement {
    static func template(_ dialect: SQLDialect) -> String {
        let levels = SignalKind.allCases.filter { $0 != .signalUnspecified && $0.rawValue > 0 }.flatMap { kind in
            RiskLevel.allCases.filter { $0.rawValue > 0 }.map { "(\(kind.rawValue), \($0.rawValue))" }
        }.joined(separator: ", ")
        return """
            \(wanted), levels (kind, risk) AS (VALUES \(levels)) \
            SELECT wanted.idx, levels.kind, MAX(levels.risk) FROM wanted CROSS JOIN levels WHERE EXISTS (\
            SELECT 1 FROM risk_flags f WHERE f.claimant_id = wanted.claimant_id AND f.kind = levels.kind \
            AND f.risk_level = levels.risk AND f.raised_at_ms > wanted.since_ms AND f.raised_at_ms <= wanted.until_ms) \
            GROUP BY wanted.idx, levels.kind
            """
    }
}
