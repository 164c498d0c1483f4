import Synchronization

/// Gives PostgreSQL's planner statistics on `contacts` before autovacuum does. Until the table has
/// been analyzed (autovacuum's first look comes up to a minute after the first rows, and never
/// where it is turned off), the planner rates every condition alike, and for a complaint's newest
/// contacts with the same description it walked all of the category's contacts by time instead
/// of the index made for them (`contacts_by_complaint`): with every description different, 2.8 ms
/// of the server per call (and the presence question for a batch's complaints, 1.7 s for 64 on
/// 20 000 contacts). So the store asks whether the table has been analyzed when it opens (a
/// database restored without statistics, autovacuum off) and every `checkEvery` contacts it writes,
/// and analyzes it when not and it holds contacts (an empty table's statistics say nothing); once
/// it has statistics, it stops asking.
final class PlannerStatistics: Sendable {
    static let checkEvery = 1000

    private let database: any SQLDatabase
    private struct State {
        var writtenSinceCheck = 0
        var checking = false
        var analyzed = false
    }
    private let state = Mutex(State())

    init(database: any SQLDatabase) {
        self.database = database
        state.withLock { $0.checking = true }
        checkInBackground()
    }

    /// Counts contacts written; every `checkEvery`, checks in the background. A failed check is
    /// tried again after the next `checkEvery` (the statistics only guide the planner).
    func noteWritten(_ count: Int) {
        let due = state.withLock { state -> Bool in
            guard !state.analyzed, !state.checking else { return false }
            state.writtenSinceCheck += count
            guard state.writtenSinceCheck >= Self.checkEvery else { return false }
            state.writtenSinceCheck = 0
            state.checking = true
            return true
        }
        if due { checkInBackground() }
    }

    /// Runs the check begun by setting `checking`.
    private func checkInBackground() {
        Task {
            let analyzed = await analyzeIfNeverAnalyzed()
            state.withLock {
                $0.checking = false
                $0.analyzed = analyzed
            }
        }
    }

    /// Whether the table has statistics now.
    private func analyzeIfNeverAnalyzed() async -> Bool {
        do {
            let rows = try await database.query(
                SQLStatement(
                    "SELECT CASE WHEN last_analyze IS NULL AND last_autoanalyze IS NULL THEN 0 ELSE 1 END, CASE WHEN EXISTS (SELECT 1 FROM contacts) THEN 1 ELSE 0 END FROM pg_stat_user_tables WHERE relid = 'contacts'::regclass"
                ))
            if try rows.first?.integer(0) == 1 { return true }
            guard try rows.first?.integer(1) == 1 else { return false }
            _ = try await database.query(SQLStatement("ANALYZE contacts"))
            return true
        } catch {
            return false
        }
    }
}
