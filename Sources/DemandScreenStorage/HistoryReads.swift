import DemandScreenAPI
import ScreeningEngine
import SwiftProtobuf

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
/// whatever its size. The same SQL runs on both backends, but for the newest contacts of each
/// claimant (`NewestClaimantContacts`: a lateral join on PostgreSQL).
enum HistoryReads {
    /// How many of the newest same-complaint contacts the first look takes per call: they nearly
    /// always hold enough other claimants; only when they do not (one claimant repeating the
    /// complaint) does a second look go further back.
    static let newestSightings = 16

    /// For each request, its stored result when the record was screened before, else the history
    /// to screen it with, or why that request's rows could not be read (the others go on). The first read takes the stored results, the claimants' contacts and
    /// flags, the newest contacts of the complaints `known` holds, and, for the others, whether
    /// any contact of theirs is in the window at all: most complaints in their own words have
    /// none, and on PostgreSQL each look at a complaint's newest contacts is a statement branch
    /// planned on every call, where one statement asks for all of them. A second
    /// read looks at the newest contacts of the complaints found, and further (`SecondLooks`) for
    /// the calls whose first look did not show enough other claimants; a third takes the second
    /// looks of the calls whose first look came in the second.
    static func prepare(
        _ requests: [HistoryRequest], in database: any SQLDatabase, known: KnownComplaints
    ) async throws -> [Result<ContactStore.Preparation, any Error>] {
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

        // A row of one call's claimant that cannot be read fails that call, not the batch.
        var failures: [Int: any Error] = [:]
        func forRequest(_ row: SQLRow, _ read: (Int) throws -> Void) throws {
            let index = Int(try row.integer(0))
            do {
                try read(index)
            } catch {
                failures[index] = error
            }
        }
        for row in rows[0] { batch.stored[try row.text(0)] = try row.blob(1) }
        var claimants = Array(repeating: ClaimantContacts(), count: requests.count)
        for row in rows[1] {
            try forRequest(row) { index in claimants[index].newest.append(try ContactStore.pastContact(row, from: 1)) }
        }
        var standings = Array(repeating: ClaimantStanding(), count: requests.count)
        for row in rows[2] {
            try forRequest(row) { index in
                standings[index].activeFlags.append(SignalKind(rawValue: Int(try row.integer(1))) ?? .signalUnspecified)
                standings[index].riskLevel = standings[index].riskLevel.raised(to: RiskLevel(rawValue: Int(try row.integer(2))) ?? .riskLow)
            }
        }
        for row in rows[3] {
            try forRequest(row) { index in
                claimants[index].in30d = Int(try row.integer(1))
                claimants[index].in24h = Int(try row.integer(2))
            }
        }
        try batch.takeFirstLooks(of: familiar, rows[4..<(4 + firstLooks.count)])
        let present = Set(try rows[(4 + firstLooks.count)...].joined().map { Int(try $0.integer(0)) })
        known.insert(present.map { keys.representatives[$0] })

        // Calls whose first look is done, and complaints whose first look is still to come.
        var ready = (familiar + unfamiliar.filter { !present.contains($0) }).flatMap { keys.groups[$0] }
        var pending = unfamiliar.filter { present.contains($0) }
        repeat {
            let looks = SecondLooks(for: ready, in: batch)
            let pendingLooks = keys.newestSightings(requests, groups: pending)
            if !looks.statements.isEmpty || !pendingLooks.isEmpty {
                let found = try await database.read(pendingLooks + looks.statements)
                try batch.takeFirstLooks(of: pending, found[..<pendingLooks.count])
                try looks.take(found[pendingLooks.count...], into: &batch)
            }
            ready = pending.flatMap { keys.groups[$0] }
            pending = []
        } while !ready.isEmpty

        let bigrams = DescriptionBigrams()
        return requests.enumerated().map { index, request in
            if let failure = failures[index] { return .failure(failure) }
            if let result = batch.stored[request.record.recordID] {
                return Result { .alreadyScreened(try ScreenAnswer(stored: result)) }
            }
            standings[index].activeFlags.sort { $0.rawValue < $1.rawValue }
            return .success(
                .newContact(
                    HistoryWindows.summarize(
                        request.record, at: request.at, claimant: claimants[index], otherComplaints: batch.otherComplaints(of: index),
                        standing: standings[index], policy: request.policy, bigrams: bigrams)))
        }
    }

    /// Whether the sightings in the request's window show `enough` distinct claimants other than
    /// the request's own (it stops counting there).
    static func showEnoughClaimants(_ sightings: [ComplaintSighting], for request: HistoryRequest, enough: Int) -> Bool {
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
    static func times(of members: [Int], _ requests: [HistoryRequest]) -> (since: Int64, earliest: Int64, latest: Int64) {
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

    /// `idx, claimant_id, received_at_ms, description`: the same complaint further back than the
    /// first look, one row per claimant among its newest `HistoryWindows.sameComplaintLimit`
    /// contacts, whoever made them (the caller's own are left out by `HistoryWindows.summarize`):
    /// a claimant repeating the complaint thousands of times costs the look no more rows.
    static func furtherBack(_ index: Int, _ request: HistoryRequest, _ complaint: Complaint) -> Branch {
        Branch(
            sql: """
                SELECT ? AS idx, claimant_id, MAX(received_at_ms) AS received_at_ms, MAX(description) AS description FROM (\
                SELECT claimant_id, received_at_ms, description FROM contacts WHERE incident_category = ? AND product_key = ? \
                AND received_at_ms > ? AND received_at_ms <= ? \(sameComplaint(complaint)) \
                ORDER BY received_at_ms DESC LIMIT \(HistoryWindows.sameComplaintLimit)) AS recent GROUP BY claimant_id
                """,
            binds: [.integer(Int64(index))] + sameCategoryWindow(request, complaint) + sameComplaintBinds(complaint)
        )
    }

    /// `group, claimant_id, received_at_ms, description`: the most recent contacts of one category
    /// without a product key, up to the latest time of the group's calls, to compare by description
    /// (each call's summary counts those in its own window, from other claimants). The limit
    /// bounds the rows walked: a category's contacts are not walked to the end of the window on
    /// every batch.
    static func similarDescriptions(_ group: Int, _ members: [Int], _ requests: [HistoryRequest], _ complaints: [Complaint]) -> Branch {
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
        ]
    }
}
