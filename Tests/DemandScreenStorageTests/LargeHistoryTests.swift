import DemandScreenAPI
import DemandScreenStorage
import ScreeningEngine
import Testing

/// A claimant who has called 50 000 times: what a call reads of their history is bounded by
/// design (counts up to `HistoryWindows.contactCountLimit`, the newest few contacts, one index
/// look per flag kind and risk), and what the signals need stays exact.
@Suite struct LargeHistoryTests {
    static let contacts = 50_000

    /// Inserts `count` contacts of `claimant`, one a minute back from `newest`, and a risk flag of
    /// kind `flagKind` at risk `risk` on each (as a store would have stored them, without screening
    /// them one by one), a transaction per 2 000 contacts: one statement of 50 000 rows can take
    /// longer on a loaded machine than the store waits for an answer.
    static func insertHistory(
        _ store: ContactStore, claimant: String, count: Int, newest: Int64, flagKind: SignalKind, risk: RiskLevel, prefix: String,
        category: IncidentCategory = .incidentDelivery, productKey: String = ""
    ) async throws {
        let chunk = 2_000
        for first in stride(from: 1, through: count, by: chunk) {
            try await insertContacts(
                store, numbered: first...min(first + chunk - 1, count), claimant: claimant, newest: newest, flagKind: flagKind,
                risk: risk, prefix: prefix, category: category, productKey: productKey)
        }
    }

    private static func insertContacts(
        _ store: ContactStore, numbered range: ClosedRange<Int>, claimant: String, newest: Int64, flagKind: SignalKind,
        risk: RiskLevel, prefix: String, category: IncidentCategory, productKey: String
    ) async throws {
        let blob = store.database.dialect == .postgres ? "'\\x'::bytea" : "X''"
        let numbers =
            "WITH RECURSIVE n(i) AS (SELECT \(range.lowerBound) UNION ALL SELECT i + 1 FROM n WHERE i < \(range.upperBound))"
        _ = try await store.database.transaction([
            SQLStatement(
                """
                INSERT INTO contacts (record_id, claimant_id, received_at_ms, stored_at_ms, channel, verdict, risk_level, signals, \
                demand_kinds, incident_category, product_key, description, policy_version, client, commit_id, record, result) \
                \(numbers) SELECT '\(prefix)-' || i, '\(claimant)', \(newest) - i * CAST(60000 AS BIGINT), \(newest), 1, \
                \(Verdict.unjustDemand.rawValue), \(risk.rawValue), '', '', \(category.rawValue), '\(productKey)', \
                '配達が遅れた', 'test', 'test', 'bulk', \(blob), \(blob) FROM n
                """),
            SQLStatement(
                """
                INSERT INTO risk_flags (record_id, kind, claimant_id, severity, risk_level, raised_at_ms, evidence) \
                \(numbers) SELECT '\(prefix)-' || i, \(flagKind.rawValue), '\(claimant)', \(Severity.high.rawValue), \
                \(risk.rawValue), \(newest) - i * CAST(60000 AS BIGINT), \(blob) FROM n
                """),
        ])
    }

    @Test(arguments: Backend.allCases)
    func aClaimantWithFiftyThousandContactsIsScreenedWithExactSignals(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            // 50 000 contacts, one a minute, the newest 20 hours ago (so 20 × 60 … in the last
            // day: far past the limit), each with a HIGH coercion flag; one CRITICAL threat flag
            // 60 days ago (still active: flags count for 90 days) and 120 days ago one more (not).
            let hot = "c-hot"
            try await Self.insertHistory(
                store, claimant: hot, count: Self.contacts, newest: baseTime - 20 * hourMs, flagKind: .signalCoercion, risk: .riskHigh,
                prefix: "bulk")
            try await Self.insertHistory(
                store, claimant: hot, count: 1, newest: baseTime - 60 * dayMs, flagKind: .signalThreatViolence, risk: .riskCritical,
                prefix: "old-threat")
            try await Self.insertHistory(
                store, claimant: hot, count: 1, newest: baseTime - 120 * dayMs, flagKind: .signalThreatExposure,
                risk: .riskCritical, prefix: "older-exposure")
            // A claimant of the same history's time with three contacts in the last day.
            try await Self.insertHistory(
                store, claimant: "c-few", count: 3, newest: baseTime - hourMs, flagKind: .signalAbusiveLanguage, risk: .riskElevated,
                prefix: "few")

            let hotResult = try await store.screen(legitimateRecord("hot-now", claimant: hot, at: baseTime))
            let limit = UInt32(HistoryWindows.contactCountLimit)
            #expect(hotResult.claimant.contacts24H == limit + 1)
            #expect(hotResult.claimant.contacts30D == limit + 1)
            #expect(hotResult.claimant.riskLevel == .riskCritical)
            #expect(hotResult.claimant.activeFlags.contains(.signalThreatViolence))
            #expect(hotResult.claimant.activeFlags.contains(.signalCoercion))
            #expect(!hotResult.claimant.activeFlags.contains(.signalThreatExposure))
            let repeated = try #require(hotResult.signals.first { $0.kind == .signalRepeatedContact })
            #expect(repeated.severity == .high)

            let few = try await store.screen(legitimateRecord("few-now", claimant: "c-few", at: baseTime))
            #expect(few.claimant.contacts24H == 4)
            #expect(few.claimant.contacts30D == 4)
            #expect(few.claimant.riskLevel == .riskElevated)
            #expect(few.claimant.activeFlags.contains(.signalAbusiveLanguage))

            // Earlier in time, the same claimant's counts are of the contacts before then only.
            let early = try await store.screen(legitimateRecord("hot-early", claimant: hot, at: baseTime - 20 * hourMs - 30 * 60000))
            #expect(early.claimant.contacts30D == limit + 1)
            #expect(!early.claimant.activeFlags.isEmpty)
        }
    }

    /// One claimant repeating a complaint 50 000 times costs the same-complaint look no more rows:
    /// it takes the complaint's newest `HistoryWindows.sameComplaintLimit` contacts, whoever made
    /// them. Other claimants among them make a recurring issue; those further back are not seen,
    /// in the store as in the in-memory history of `evaluate`.
    @Test(arguments: Backend.allCases)
    func aClaimantRepeatingAComplaintLeavesTheRecurringIssueLookBounded(backend: Backend) async throws {
        // The hot claimant's repeats, one a minute back from 20 hours ago: the newest 64 reach
        // back to 21 hours 4 minutes ago. Two claimants reported "p-near" 21 hours ago, two "p-far" 40 hours ago.
        let repeats = [(product: "p-near", othersAt: baseTime - 21 * hourMs), (product: "p-far", othersAt: baseTime - 40 * hourMs)]
        try await withStore(backend) { store, _ in
            for (product, othersAt) in repeats {
                try await Self.insertHistory(
                    store, claimant: "c-hot", count: Self.contacts / 2, newest: baseTime - 20 * hourMs, flagKind: .signalCoercion,
                    risk: .riskHigh, prefix: "hot-\(product)", category: .incidentProductDefect, productKey: product)
                for other in ["a", "b"] {
                    _ = try await store.screen(
                        legitimateRecord("\(product)-\(other)", claimant: "c-\(other)", at: othersAt, productKey: product))
                }
            }
            let near = try await store.screen(legitimateRecord("hot-near-now", claimant: "c-hot", at: baseTime, productKey: "p-near"))
            #expect(near.signals.contains { $0.kind == .signalRecurringIssue })
            let far = try await store.screen(legitimateRecord("hot-far-now", claimant: "c-hot", at: baseTime, productKey: "p-far"))
            #expect(!far.signals.contains { $0.kind == .signalRecurringIssue })
            // A new claimant's look at the complaint is the same: the repeats fill its newest 64.
            let newcomer = try await store.screen(legitimateRecord("new-far-now", claimant: "c-new", at: baseTime, productKey: "p-far"))
            #expect(!newcomer.signals.contains { $0.kind == .signalRecurringIssue })
        }

        var book = HistoryBook()
        let policy = engine.policy
        for (product, othersAt) in repeats {
            for other in ["a", "b"] {
                let record = legitimateRecord("\(product)-\(other)", claimant: "c-\(other)", at: othersAt, productKey: product)
                _ = book.screen(record, at: othersAt, policy: policy) { engine.screen(record, history: $0) }
            }
            let repeated = engine.screen(
                legitimateRecord("hot", claimant: "c-hot", at: baseTime, productKey: product), history: ClaimantHistory())
            for index in 0..<(HistoryWindows.sameComplaintLimit + 100) {
                let at = baseTime - 20 * hourMs - Int64(index) * 60_000
                book.append(
                    legitimateRecord("hot-\(product)-\(index)", claimant: "c-hot", at: at, productKey: product), result: repeated, at: at)
            }
        }
        for (product, expected) in [("p-near", true), ("p-far", false)] {
            let history = book.history(
                for: legitimateRecord("now", claimant: "c-hot", at: baseTime, productKey: product), at: baseTime, policy: policy)
            #expect((history.otherClaimantsWithSameComplaint >= 2) == expected, "\(product)")
        }
    }

    @Test func theInMemoryHistoryCountsUpToTheLimitAndKeepsFlagsActive() {
        var book = HistoryBook()
        let policy = engine.policy
        for index in 0..<300 {
            let record = unjustRecord("u-\(index)", claimant: "c-hot", at: baseTime - Int64(index + 1) * 60_000)
            _ = book.screen(record, at: record.receivedAtUnixMs, policy: policy) { engine.screen(record, history: $0) }
        }
        let history = book.history(for: legitimateRecord("now", claimant: "c-hot", at: baseTime), at: baseTime, policy: policy)
        #expect(history.contacts24h == UInt32(HistoryWindows.contactCountLimit))
        #expect(history.contacts30d == UInt32(HistoryWindows.contactCountLimit))
        #expect(history.activeFlags.contains(.signalCoercion))
        // Contacts dated after a call are not part of its history.
        let then = baseTime - 299 * 60_000 - 1
        let before = book.history(for: legitimateRecord("then", claimant: "c-hot", at: then), at: then, policy: policy)
        #expect(before.contacts30d == 1)
        let none = book.history(for: legitimateRecord("first", claimant: "c-new", at: baseTime), at: baseTime, policy: policy)
        #expect(none.contacts30d == 0 && none.activeFlags.isEmpty)
    }
}

/// Stored rows are read as the types their columns must hold, or refused.
@Suite struct StoredRowTests {
    @Test func aColumnOfAnotherTypeIsRefusedNamingTheColumnAndNotTheValue() throws {
        let row = SQLRow([.text("090-1234-5678"), .integer(7), .null])
        #expect(try row.text(0) == "090-1234-5678")
        #expect(try row.integer(1) == 7)
        #expect(try row.blob(2) == nil)
        let wrongType = #expect(throws: StoredRowError.self) { try row.integer(0) }
        #expect(wrongType?.description == "stored row's column 0 holds text, expected an integer")
        let missing = #expect(throws: StoredRowError.self) { try row.text(5) }
        #expect(missing?.description == "stored row has no column 5 (expected text)")
        #expect(throws: StoredRowError.self) { try row.text(2) }
    }

    /// SQLite keeps any value in any column: a stored contact whose number column holds text
    /// (written by hand, or by a broken tool) fails the calls that read it, not the daemon.
    @Test func aStoredContactWhoseColumnHoldsTextFailsTheCallNotTheStore() async throws {
        try await withStore(.sqlite) { store, _ in
            _ = try await store.screen(legitimateRecord("t-1", claimant: "c-t", at: baseTime - hourMs))
            _ = try await store.database.transaction([
                SQLStatement("UPDATE contacts SET verdict = 'not a number' WHERE record_id = 't-1'")
            ])
            // Calls arriving together are read in one batch: only the one whose claimant's row is
            // broken fails.
            let outcomes = await withTaskGroup(of: (String, Result<ScreeningResult, any Error>).self) { group in
                for (id, claimant) in [("t-2", "c-t"), ("t-3", "c-other"), ("t-4", "c-another")] {
                    group.addTask {
                        do {
                            return (id, .success(try await store.screen(legitimateRecord(id, claimant: claimant, at: baseTime))))
                        } catch {
                            return (id, .failure(error))
                        }
                    }
                }
                var outcomes: [String: Result<ScreeningResult, any Error>] = [:]
                for await (id, outcome) in group { outcomes[id] = outcome }
                return outcomes
            }
            guard case .failure(let error) = outcomes["t-2"] else {
                Issue.record("the call whose claimant's stored row is broken did not fail")
                return
            }
            #expect("\(error)" == "stored row's column 4 holds text, expected an integer")
            #expect((try? outcomes["t-3"]?.get())?.verdict == .legitimateClaim)
            #expect((try? outcomes["t-4"]?.get())?.verdict == .legitimateClaim)
        }
    }
}
