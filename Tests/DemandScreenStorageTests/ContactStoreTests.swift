import DemandScreenAPI
import DemandScreenStorage
import Foundation
import ScreeningEngine
import SwiftProtobuf
import Testing

/// The contact store's behavior, the same on SQLite and PostgreSQL.
@Suite struct ContactStoreTests {
    @Test(arguments: Backend.allCases)
    func aRetriedRecordGetsTheStoredResultAndAddsNoContact(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let first = try await store.screen(legitimateRecord("r-1", claimant: "c-1", at: baseTime))
            var retried = unjustRecord("r-1", claimant: "c-1", at: baseTime + hourMs)
            retried.utterances.append(utterance(.customer, "もう一度言う"))
            let second = try await store.screen(retried)
            #expect(second == first)
            #expect(second.verdict == .legitimateClaim)
            #expect(try await store.contactCount() == 1)
            let risk = try #require(try await store.claimantRisk("c-1", now: baseTime + hourMs, policy: engine.policy))
            #expect(risk.contacts.map(\.recordID) == ["r-1"])
            #expect(risk.flags.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func theSameRecordSentAtOnceThroughTwoStoresIsStoredOnce(backend: Backend) async throws {
        try await withStore(backend) { store, url in
            let other = try await open(url)
            let record = unjustRecord("r-dup", claimant: "c-dup", at: baseTime)
            let results = try await withThrowingTaskGroup(of: ScreeningResult.self) { group in
                for index in 0..<20 {
                    let target = index.isMultiple(of: 2) ? store : other
                    group.addTask { try await target.screen(record) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            await other.close()
            #expect(Set(results.map { try! $0.serializedBytes() as Data }).count == 1)
            #expect(try await store.contactCount() == 1)
            let flags = try await store.database.query(SQLStatement("SELECT COUNT(*) FROM risk_flags WHERE record_id = 'r-dup'"))
            #expect(try flags.first?.integer(0) == Int64(HistoryWindows.flags(raisedBy: results[0]).count))
        }
    }

    @Test(arguments: Backend.allCases)
    func contactsAreCountedInWindowsOfTheirOwnTime(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            // Sent late and out of order: the windows follow received_at_unix_ms, not arrival.
            for (id, offset) in [("old", -40 * dayMs), ("recent-2", -1 * hourMs), ("week", -7 * dayMs), ("recent-1", -2 * hourMs)] {
                _ = try await store.screen(unjustRecord(id, claimant: "c-w", at: baseTime + offset))
            }
            let result = try await store.screen(unjustRecord("now", claimant: "c-w", at: baseTime))
            #expect(result.claimant.contacts24H == 3)
            #expect(result.claimant.contacts30D == 4)
            #expect(result.signals.contains { $0.kind == .signalRepeatedContact })
            #expect(result.claimant.riskLevel.rawValue >= RiskLevel.riskHigh.rawValue)
            // A contact dated before the others sees only what came before it.
            let early = try await store.screen(unjustRecord("earlier", claimant: "c-w", at: baseTime - 3 * hourMs))
            #expect(early.claimant.contacts24H == 1)
            #expect(early.claimant.contacts30D == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func aClaimantsCountsStopAtTheLimit(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            // Five contacts ten days back, then as many as the limit in the last day: both windows
            // count up to the limit (and this contact).
            let limit = HistoryWindows.contactCountLimit
            let times = (0..<5).map { baseTime - 10 * dayMs - Int64($0) * 60_000 } + (1...limit).map { baseTime - Int64($0) * 60_000 }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, time) in times.enumerated() {
                    group.addTask { _ = try await store.screen(legitimateRecord("m-\(index)", claimant: "c-many", at: time)) }
                }
                try await group.waitForAll()
            }
            let result = try await store.screen(legitimateRecord("m-now", claimant: "c-many", at: baseTime))
            #expect(result.claimant.contacts30D == UInt32(limit + 1))
            #expect(result.claimant.contacts24H == UInt32(limit + 1))
        }
    }

    @Test(arguments: Backend.allCases)
    func aFollowUpAWeekLaterOnAnOpenDefectIsNotHarassment(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            _ = try await store.screen(legitimateRecord("f-1", claimant: "c-f", at: baseTime - 7 * dayMs))
            let followUp = try await store.screen(legitimateRecord("f-2", claimant: "c-f", at: baseTime))
            #expect(followUp.verdict == .legitimateClaim)
            #expect(!followUp.signals.contains { $0.kind == .signalRepeatedContact })
            #expect(followUp.claimant.contacts30D == 2)
        }
    }

    /// The money each contact demanded is stored with it, so that the next call about the same
    /// complaint sees a demand that has grown (an escalating demand); another complaint's money
    /// does not count.
    @Test(arguments: Backend.allCases)
    func moneyRaisedOverRepeatedCallsIsAnEscalatingDemand(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            _ = try await store.screen(moneyRecord("e-0", 200_000, at: baseTime - 3 * dayMs, description: "洗濯機から水が漏れる"))
            let first = try await store.screen(moneyRecord("e-1", 10_000, at: baseTime - 2 * dayMs))
            #expect(!first.signals.contains { $0.kind == .signalExcessiveDemand })
            let second = try await store.screen(moneyRecord("e-2", 30_000, at: baseTime))
            let excessive = try #require(second.signals.first { $0.kind == .signalExcessiveDemand })
            #expect(excessive.evidence.contains { $0.excerpt == "¥10000 → ¥30000" }, "\(excessive.evidence)")
        }
    }

    @Test(arguments: Backend.allCases)
    func theSameDefectFromThreeClaimantsIsARecurringIssueNotAMarkAgainstThem(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            var results: [ScreeningResult] = []
            for (index, claimant) in ["c-a", "c-b", "c-c"].enumerated() {
                results.append(
                    try await store.screen(
                        legitimateRecord("rec-\(index)", claimant: claimant, at: baseTime + Int64(index) * hourMs, productKey: "MW-200")))
            }
            #expect(!results[1].signals.contains { $0.kind == .signalRecurringIssue })
            #expect(results[2].signals.contains { $0.kind == .signalRecurringIssue })
            #expect(results.allSatisfy { $0.verdict == .legitimateClaim && $0.riskLevel == .riskLow })
            // Another product is another issue.
            let other = try await store.screen(legitimateRecord("rec-x", claimant: "c-d", at: baseTime + 4 * hourMs, productKey: "TV-1"))
            #expect(!other.signals.contains { $0.kind == .signalRecurringIssue })

            let issues = try await store.recurringIssues(since: baseTime - dayMs, now: baseTime + 5 * hourMs, policy: engine.policy)
            let issue = try #require(issues.first)
            #expect(issues.count == 1)
            #expect(issue.productKey == "MW-200")
            #expect(issue.claimantCount == 3)
            #expect(issue.recordIds == ["rec-0", "rec-1", "rec-2"])
            #expect(issue.firstSeenUnixMs == baseTime)
            #expect(issue.lastSeenUnixMs == baseTime + 2 * hourMs)
            let risk = try #require(try await store.claimantRisk("c-c", now: baseTime + 5 * hourMs, policy: engine.policy))
            #expect(risk.flags.isEmpty)
            #expect(risk.riskLevel == .riskLow)
        }
    }

    @Test(arguments: Backend.allCases)
    func similarDescriptionsWithoutAProductKeyAreTheSameComplaint(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let descriptions = ["電子レンジの扉が閉まらない", "電子レンジの扉が閉まらなくなった", "電子レンジの扉がしまらない"]
            var last = ScreeningResult()
            for (index, description) in descriptions.enumerated() {
                last = try await store.screen(
                    legitimateRecord("d-\(index)", claimant: "c-d\(index)", at: baseTime + Int64(index) * hourMs, description: description))
            }
            #expect(last.signals.contains { $0.kind == .signalRecurringIssue })
        }
    }

    @Test(arguments: Backend.allCases)
    func similarWordingsArrivingTogetherAreEachComparedWithTheOthers(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            // Other complaints of the category, each in its own words, then three similar ones
            // read in one batch: each of the three is compared with the category's contacts
            // (one look shared by the batch), and the last two find the ones before them.
            for index in 0..<30 {
                _ = try await store.screen(
                    legitimateRecord(
                        "w-\(index)", claimant: "c-w\(index)", at: baseTime + Int64(index) * 60_000,
                        description: "注文\(index)番の部品\(index * 7)が欠けていた"))
            }
            _ = try await store.screen(
                legitimateRecord("s-0", claimant: "c-s0", at: baseTime + hourMs, description: "電子レンジの扉が閉まらない"))
            _ = try await store.screen(
                legitimateRecord("s-1", claimant: "c-s1", at: baseTime + hourMs + 60_000, description: "電子レンジの扉が閉まらなくなった"))
            let results = try await withThrowingTaskGroup(of: (Int, ScreeningResult).self) { group in
                for index in 0..<4 {
                    group.addTask {
                        (
                            index,
                            try await store.screen(
                                legitimateRecord(
                                    "t-\(index)", claimant: "c-t\(index)", at: baseTime + 2 * hourMs + Int64(index) * 60_000,
                                    description: index == 0 ? "電子レンジの扉がしまらない" : "注文\(100 + index)番の箱が濡れていた"))
                        )
                    }
                }
                return try await group.reduce(into: [Int: ScreeningResult]()) { $0[$1.0] = $1.1 }
            }
            #expect(results[0]?.signals.contains { $0.kind == .signalRecurringIssue } == true)
            #expect((1..<4).allSatisfy { results[$0]?.signals.contains { $0.kind == .signalRecurringIssue } == false })
        }
    }

    @Test func postgreSQLGetsStatisticsOnContactsOnceTheStoreHasWrittenSome() async throws {
        try await withStore(.postgres) { store, _ in
            // Autovacuum would analyze the table too, in its own time: here only the store may.
            _ = try await store.database.query(SQLStatement("ALTER TABLE contacts SET (autovacuum_enabled = false)"))
            let analyzed = SQLStatement(
                "SELECT CASE WHEN last_analyze IS NULL AND last_autoanalyze IS NULL THEN 0 ELSE 1 END FROM pg_stat_user_tables WHERE relid = 'contacts'::regclass"
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<1100 {
                    group.addTask {
                        _ = try await store.screen(
                            legitimateRecord("p-\(index)", claimant: "c-p\(index % 50)", at: baseTime + Int64(index) * 1000))
                    }
                }
                try await group.waitForAll()
            }
            // The check runs in the background, and the server publishes its statistics shortly after.
            var found = false
            let deadline = ContinuousClock.now + .seconds(60)
            while !found && ContinuousClock.now < deadline {
                found = try await store.database.query(analyzed).first?.integer(0) == 1
                if !found { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(found)
        }
    }

    @Test func postgreSQLGetsStatisticsWhenAStoreOpensOnContactsThatHaveNone() async throws {
        try await withStore(.postgres) { store, url in
            _ = try await store.database.query(SQLStatement("ALTER TABLE contacts SET (autovacuum_enabled = false)"))
            // Fewer contacts than the store counts before it checks: it leaves them unanalyzed.
            for index in 0..<20 {
                _ = try await store.screen(legitimateRecord("o-\(index)", claimant: "c-o\(index)", at: baseTime + Int64(index) * 1000))
            }
            let analyzed = SQLStatement(
                "SELECT CASE WHEN last_analyze IS NULL AND last_autoanalyze IS NULL THEN 0 ELSE 1 END FROM pg_stat_user_tables WHERE relid = 'contacts'::regclass"
            )
            #expect(try await store.database.query(analyzed).first?.integer(0) == 0)
            // Another store opening on them (a restart, a restored database) analyzes them.
            let other = try await open(url)
            var found = false
            for _ in 0..<100 where !found {
                found = try await other.database.query(analyzed).first?.integer(0) == 1
                if !found { try await Task.sleep(for: .milliseconds(100)) }
            }
            await other.close()
            #expect(found)
        }
    }

    @Test(arguments: Backend.allCases)
    func otherClaimantsBehindOneWhoRepeatsTheComplaintStillCount(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            // c-first, then c-repeat twenty times (more than the newest contacts a first look
            // takes), then c-new: c-first is only found by looking further back.
            _ = try await store.screen(legitimateRecord("r-first", claimant: "c-first", at: baseTime, productKey: "KT-9"))
            for index in 1...20 {
                _ = try await store.screen(
                    legitimateRecord("r-repeat-\(index)", claimant: "c-repeat", at: baseTime + Int64(index) * 60_000, productKey: "KT-9"))
            }
            let result = try await store.screen(legitimateRecord("r-new", claimant: "c-new", at: baseTime + hourMs, productKey: "KT-9"))
            #expect(result.signals.contains { $0.kind == .signalRecurringIssue })
            // Without a c-first, a claimant who repeats is one claimant: no recurring issue.
            for index in 1...20 {
                _ = try await store.screen(
                    legitimateRecord("s-repeat-\(index)", claimant: "c-repeat", at: baseTime + Int64(index) * 60_000, productKey: "KT-8"))
            }
            let alone = try await store.screen(legitimateRecord("s-new", claimant: "c-new", at: baseTime + hourMs, productKey: "KT-8"))
            #expect(!alone.signals.contains { $0.kind == .signalRecurringIssue })
        }
    }

    @Test(arguments: Backend.allCases)
    func complaintsStoredThroughAnotherStoreAreFound(backend: Backend) async throws {
        try await withStore(backend) { store, url in
            // Stored through `store`; then screened through `other`, which has written none of
            // these complaints and so first asks whether any contact of theirs is stored.
            for (index, claimant) in ["c-a", "c-b"].enumerated() {
                let at = baseTime + Int64(index) * hourMs
                _ = try await store.screen(legitimateRecord("k-\(index)", claimant: claimant, at: at, productKey: "MW-300"))
                _ = try await store.screen(legitimateRecord("d-\(index)", claimant: claimant, at: at, description: "冷蔵庫のドアが閉まらない"))
            }
            // c-first behind twenty contacts of c-repeat: found only by a look further back.
            _ = try await store.screen(legitimateRecord("r-first", claimant: "c-first", at: baseTime, productKey: "KT-7"))
            for index in 1...20 {
                _ = try await store.screen(
                    legitimateRecord("r-repeat-\(index)", claimant: "c-repeat", at: baseTime + Int64(index) * 60_000, productKey: "KT-7"))
            }
            // More recent contacts of the category in other words than its look at them takes:
            // only the look at the very description finds d-0 and d-1.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<220 {  // the look takes the newest 200
                    group.addTask {
                        _ = try await store.screen(
                            legitimateRecord(
                                "w-\(index)", claimant: "c-w\(index)", at: baseTime + 2 * hourMs + Int64(index) * 1000,
                                description: "注文\(index)番の部品\(index * 7)が欠けていた"))
                    }
                }
                try await group.waitForAll()
            }
            let other = try await open(url)
            let later = baseTime + 3 * hourMs
            let keyed = try await other.screen(legitimateRecord("k-new", claimant: "c-c", at: later, productKey: "MW-300"))
            let described = try await other.screen(legitimateRecord("d-new", claimant: "c-c", at: later, description: "冷蔵庫のドアが閉まらない"))
            let behind = try await other.screen(legitimateRecord("r-new", claimant: "c-new", at: later, productKey: "KT-7"))
            let unseen = try await other.screen(legitimateRecord("u-new", claimant: "c-new", at: later, productKey: "NEW-1"))
            await other.close()
            #expect(keyed.signals.contains { $0.kind == .signalRecurringIssue })
            #expect(described.signals.contains { $0.kind == .signalRecurringIssue })
            #expect(behind.signals.contains { $0.kind == .signalRecurringIssue })
            #expect(!unseen.signals.contains { $0.kind == .signalRecurringIssue })
        }
    }

    @Test(arguments: Backend.allCases)
    func callsReadTogetherEachGetTheirOwnClaimantsHistory(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            // Claimant k has k % 4 earlier contacts; then every claimant calls at once, so that
            // their history reads share batches.
            let claimants = 0..<40
            for claimant in claimants {
                for earlier in 0..<(claimant % 4) {
                    _ = try await store.screen(
                        legitimateRecord("h-\(claimant)-\(earlier)", claimant: "c-\(claimant)", at: baseTime + Int64(earlier) * hourMs))
                }
            }
            let counts = try await withThrowingTaskGroup(of: (Int, UInt32).self) { group in
                for claimant in claimants {
                    group.addTask {
                        let result = try await store.screen(
                            legitimateRecord("now-\(claimant)", claimant: "c-\(claimant)", at: baseTime + 5 * hourMs))
                        return (claimant, result.claimant.contacts24H)
                    }
                }
                return try await group.reduce(into: [Int: UInt32]()) { $0[$1.0] = $1.1 }
            }
            for claimant in claimants {
                #expect(counts[claimant] == UInt32(claimant % 4 + 1), "claimant c-\(claimant)")
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func flaggedClaimantsPageStablyAndBadTokensAreRefused(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            for index in 1...5 {
                _ = try await store.screen(unjustRecord("u-\(index)", claimant: "c-\(index)", at: baseTime + Int64(index) * hourMs))
            }
            _ = try await store.screen(legitimateRecord("l-1", claimant: "c-legit", at: baseTime + 6 * hourMs))
            let now = baseTime + dayMs
            var request = ListRiskFlagsRequest()
            request.pageSize = 2
            let first = try await store.riskFlags(request, now: now, policy: engine.policy)
            #expect(first.claimants.map(\.claimantID) == ["c-5", "c-4"])
            #expect(first.claimants.allSatisfy { !$0.flags.isEmpty && $0.riskLevel.rawValue >= RiskLevel.riskElevated.rawValue })

            // A claimant flagged between pages does not shift the pages after.
            _ = try await store.screen(unjustRecord("u-new", claimant: "c-new", at: baseTime + 7 * hourMs))
            request.pageToken = first.nextPageToken
            let second = try await store.riskFlags(request, now: now, policy: engine.policy)
            #expect(second.claimants.map(\.claimantID) == ["c-3", "c-2"])
            request.pageToken = second.nextPageToken
            let third = try await store.riskFlags(request, now: now, policy: engine.policy)
            #expect(third.claimants.map(\.claimantID) == ["c-1"])
            #expect(third.nextPageToken.isEmpty)

            var tampered = request
            tampered.pageToken = String(first.nextPageToken.dropLast()) + (first.nextPageToken.hasSuffix("A") ? "B" : "A")
            let tamperedError = await #expect(throws: StoreRequestError.self) {
                try await store.riskFlags(tampered, now: now, policy: engine.policy)
            }
            #expect(tamperedError?.field == "page_token")
            var foreign = request
            foreign.pageToken = first.nextPageToken
            foreign.minRiskLevel = .riskCritical
            let foreignError = await #expect(throws: StoreRequestError.self) {
                try await store.riskFlags(foreign, now: now, policy: engine.policy)
            }
            #expect(foreignError?.problem.contains("other filters") == true)

            var critical = ListRiskFlagsRequest()
            critical.minRiskLevel = .riskCritical
            #expect(try await store.riskFlags(critical, now: now, policy: engine.policy).claimants.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func notesNeedAKnownClaimantAndASensibleText(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            _ = try await store.screen(unjustRecord("n-1", claimant: "c-n", at: baseTime))
            let unknown = await #expect(throws: StoreRequestError.self) {
                try await store.addNote(claimantID: "nobody", text: "x", author: "security:a", at: baseTime)
            }
            #expect(unknown?.kind == .notFound)
            #expect(unknown?.field == "claimant_id")
            for text in ["", "   \n", String(repeating: "長", count: 100_000)] {
                let invalid = await #expect(throws: StoreRequestError.self) {
                    try await store.addNote(claimantID: "c-n", text: text, author: "security:a", at: baseTime)
                }
                #expect(invalid?.field == "text")
            }
            let note = try await store.addNote(claimantID: "c-n", text: "警察に相談済み", author: "security:alice (token)", at: baseTime + 1)
            #expect(note.author == "security:alice (token)")
            let risk = try #require(try await store.claimantRisk("c-n", now: baseTime + 2, policy: engine.policy))
            #expect(risk.notes.map(\.text) == ["警察に相談済み"])
            #expect(try await store.claimantRisk("nobody", now: baseTime, policy: engine.policy) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func purgeErasesOnePersonAndSaysWhat(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            _ = try await store.screen(unjustRecord("p-1", claimant: "c-p", at: baseTime))
            _ = try await store.screen(unjustRecord("p-2", claimant: "c-p", at: baseTime + hourMs))
            _ = try await store.screen(unjustRecord("q-1", claimant: "c-q", at: baseTime))
            _ = try await store.addNote(claimantID: "c-p", text: "note", author: "security:a", at: baseTime)
            let removed = try await store.purge(claimantID: "c-p")
            #expect(removed.contactsRemoved == 2)
            #expect(removed.notesRemoved == 1)
            #expect(removed.flagsRemoved > 0)
            #expect(try await store.claimantRisk("c-p", now: baseTime + dayMs, policy: engine.policy) == nil)
            #expect(try await store.claimantRisk("c-q", now: baseTime + dayMs, policy: engine.policy)?.contacts.count == 1)
            #expect(try await store.purge(claimantID: "c-p").contactsRemoved == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func retentionPurgesTranscriptsButKeepsCountsAndFlags(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            _ = try await store.screen(unjustRecord("old", claimant: "c-r", at: baseTime - 400 * dayMs))
            _ = try await store.screen(unjustRecord("new", claimant: "c-r", at: baseTime))
            #expect(try await store.purgeTranscripts(before: baseTime - 365 * dayMs) == 1)
            let rows = try await store.database.query(
                SQLStatement("SELECT record_id, CASE WHEN record IS NULL THEN 1 ELSE 0 END FROM contacts ORDER BY record_id"))
            #expect(try rows.map { "\(try $0.text(0)):\(try $0.integer(1))" } == ["new:0", "old:1"])
            let risk = try #require(try await store.claimantRisk("c-r", now: baseTime, policy: engine.policy))
            #expect(risk.contacts.count == 2)
            let oldFlags = risk.flags.filter { $0.recordID == "old" }
            #expect(!oldFlags.isEmpty)
            #expect(oldFlags.allSatisfy { $0.evidence.allSatisfy(\.excerpt.isEmpty) })
            #expect(risk.flags.filter { $0.recordID == "new" }.contains { $0.evidence.contains { !$0.excerpt.isEmpty } })
            #expect(try await store.purgeTranscripts(before: baseTime - 365 * dayMs) == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func personalDataIsMaskedInWhatIsStored(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            var record = unjustRecord("m-1", claimant: "c-m", at: baseTime)
            record.utterances.append(utterance(.customer, "電話は090-1234-5678、メールはtaro.yamada@example.jpだ。晒すぞ"))
            let answered = try await store.screen(record)
            #expect(answered.signals.contains { $0.kind == .signalThreatExposure })
            let row = try #require(try await store.database.query(SQLStatement("SELECT record, result FROM contacts")).first)
            let stored = try DemandRecord(serializedBytes: try #require(try row.blob(0)))
            #expect(stored.utterances[1].text == "電話は***-****-****、メールは***********@**********だ。晒すぞ")
            #expect(stored.utterances[1].text.unicodeScalars.count == record.utterances[1].text.unicodeScalars.count)
            let storedText = try DemandRecord(serializedBytes: try #require(try row.blob(0))).jsonString()
            #expect(!storedText.contains("5678") && !storedText.contains("example"))

            // An evidence excerpt is masked in the stored result; the caller's answer keeps it.
            let quoting = unjustRecord("m-2", claimant: "c-m", at: baseTime + 1)
            var judged = engine.screen(quoting)
            judged.signals[0].evidence[0].excerpt = "090-1234-5678に電話しろ"
            let answer = try await store.screen(quoting, at: baseTime + 1) { _ in judged }
            #expect(answer.result == judged)
            #expect(try ScreeningResult(serializedBytes: answer.serialized) == judged)
            let storedResult = try ScreeningResult(
                serializedBytes: try #require(
                    try await store.database.query(SQLStatement("SELECT result FROM contacts WHERE record_id = 'm-2'")).first?.blob(0)))
            #expect(storedResult.signals[0].evidence[0].excerpt == "***-****-****に電話しろ")
        }
    }

    /// A database at an older schema (here: version 3, before contacts kept the money they
    /// demanded) is brought up to date by the first store to open it; a second opening at the same
    /// moment finds the migration done instead of failing on it.
    @Test(arguments: Backend.allCases)
    func aSchemaOlderThanThisDaemonIsBroughtUpToDateByStoresOpeningAtOnce(backend: Backend) async throws {
        let url = try await backend.newStoreURL()
        let store = try await open(url)
        _ = try await store.screen(moneyRecord("m-1", 10_000, at: baseTime - 2 * dayMs))
        // Back to version 3: contacts without the money they demanded.
        _ = try await store.database.transaction([
            SQLStatement("ALTER TABLE contacts DROP COLUMN money_demanded"),
            SQLStatement("DELETE FROM schema_migrations WHERE version = 4"),
        ])
        await store.close()
        async let first = open(url)
        async let second = open(url)
        let (upgraded, other) = try await (first, second)
        await other.close()
        // The contact stored before reads as having demanded no money: nothing to escalate from.
        let next = try await upgraded.screen(moneyRecord("m-2", 30_000, at: baseTime - dayMs))
        #expect(!next.signals.contains { $0.kind == .signalExcessiveDemand })
        let third = try await upgraded.screen(moneyRecord("m-3", 90_000, at: baseTime))
        #expect(third.signals.first { $0.kind == .signalExcessiveDemand }?.evidence.contains { $0.excerpt == "¥30000 → ¥90000" } == true)
        await upgraded.close()
    }

    @Test(arguments: Backend.allCases)
    func aSchemaNewerThanThisDaemonIsRefused(backend: Backend) async throws {
        let url = try await backend.newStoreURL()
        let store = try await open(url)
        _ = try await store.database.transaction([
            SQLStatement("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (99, 0)")
        ])
        await store.close()
        let error = await #expect(throws: StorageError.self) { try await open(url) }
        #expect(error?.problem.contains("version 99, newer than this daemon knows") == true)
    }

    /// A failed transaction's error says what failed in it, as the database said it, and carries
    /// neither the statement nor its values (which can hold personal data) into logs.
    @Test(arguments: Backend.allCases)
    func aFailedTransactionSaysWhatFailedAndNothingMore(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let error = await #expect(throws: StorageError.self) {
                try await store.database.transaction([
                    SQLStatement("SELECT 1"), SQLStatement("SELECT * FROM no_such_table WHERE phone = ?", [.text("090-1234-5678")]),
                ])
            }
            let problem = error?.problem ?? ""
            #expect(problem.contains("no_such_table"), "\(problem)")
            #expect(!problem.contains("090-1234-5678") && !problem.contains("SELECT"), "\(problem)")
        }
    }

    /// A statement that fails as the server prepares it (here: a table renamed away by hand) fails
    /// the calls of the moment, and works again once the cause is gone: postgres-nio would fail
    /// every later use of it on the same connection, so the store closes that connection.
    @Test(arguments: Backend.allCases)
    func aStatementThatFailedToPrepareWorksAgainOnceTheCauseIsGone(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            _ = try await store.database.transaction([SQLStatement("ALTER TABLE risk_flags RENAME TO risk_flags_away")])
            let error = await #expect(throws: StorageError.self) {
                try await store.screen(legitimateRecord("p-1", claimant: "c-p", at: baseTime))
            }
            #expect(error?.problem.contains("risk_flags") == true)
            _ = try await store.database.transaction([SQLStatement("ALTER TABLE risk_flags_away RENAME TO risk_flags")])
            for index in 2...6 {
                let result = try await store.screen(legitimateRecord("p-\(index)", claimant: "c-p", at: baseTime + Int64(index) * hourMs))
                #expect(result.claimant.contacts24H == UInt32(index - 1))
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func manyConcurrentCallsAreEachStored(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        _ = try await store.screen(legitimateRecord("g-\(index)", claimant: "c-\(index % 7)", at: baseTime + Int64(index)))
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.contactCount() == 300)
        }
    }
}
