import Synchronization

/// Work taken in turns: at most `concurrency` pieces run at once, and when more wait, the next to
/// run is chosen round robin over the callers waiting, and within a caller round robin over its
/// subjects (the claimants its calls are about). A caller with hundreds of calls waiting, or one
/// claimant of a platform's calls, delays another's call by at most one of its own per turn,
/// where a first-come queue would put the other behind all of them. Knows nothing of what the
/// work is.
public final class FairTurns: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// One caller's waiting calls by subject, and the order in which its subjects take turns.
    private struct CallerLine {
        var bySubject: [String: [Waiter]] = [:]
        var subjects: [String] = []
    }

    private struct State {
        var running = 0
        var waiting = 0
        var nextID: UInt64 = 0
        var lines: [String: CallerLine] = [:]
        /// The callers with calls waiting, the next to take a turn first.
        var callers: [String] = []

        mutating func enqueue(_ waiter: Waiter, caller: String, subject: String) {
            if lines[caller] == nil {
                lines[caller] = CallerLine()
                callers.append(caller)
            }
            if lines[caller]!.bySubject[subject] == nil { lines[caller]!.subjects.append(subject) }
            lines[caller]!.bySubject[subject, default: []].append(waiter)
            waiting += 1
        }

        /// The first waiting call of the next subject of the next caller; both go to the back of
        /// their orders while they have calls waiting.
        mutating func dequeue() -> Waiter? {
            guard !callers.isEmpty else { return nil }
            let caller = callers.removeFirst()
            let subject = lines[caller]!.subjects.removeFirst()
            let waiter = lines[caller]!.bySubject[subject]!.removeFirst()
            if lines[caller]!.bySubject[subject]!.isEmpty {
                lines[caller]!.bySubject[subject] = nil
            } else {
                lines[caller]!.subjects.append(subject)
            }
            if lines[caller]!.subjects.isEmpty {
                lines[caller] = nil
            } else {
                callers.append(caller)
            }
            waiting -= 1
            return waiter
        }

        /// Takes the call `id` out of the line, if it is still waiting.
        mutating func remove(_ id: UInt64, caller: String, subject: String) -> Waiter? {
            guard let index = lines[caller]?.bySubject[subject]?.firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = lines[caller]!.bySubject[subject]!.remove(at: index)
            if lines[caller]!.bySubject[subject]!.isEmpty {
                lines[caller]!.bySubject[subject] = nil
                lines[caller]!.subjects.removeAll { $0 == subject }
            }
            if lines[caller]!.subjects.isEmpty {
                lines[caller] = nil
                callers.removeAll { $0 == caller }
            }
            waiting -= 1
            return waiter
        }
    }

    /// How many pieces of work run at once.
    public let concurrency: Int
    /// The daemon's default concurrency for Screen calls (`limits.screensInProgress`): enough for
    /// the store's group commit to gather calls, few enough that a call waiting its turn is next.
    public static let defaultScreensInProgress = 32
    private let state = Mutex(State())

    /// - Parameter concurrency: pieces of work at once, at least 1.
    public init(concurrency: Int) {
        precondition(concurrency >= 1, "FairTurns needs a concurrency of at least 1")
        self.concurrency = concurrency
    }

    /// Calls waiting for their turn now.
    public var waiting: Int { state.withLock { $0.waiting } }

    /// Runs `body` when it is the turn of `caller`'s calls about `subject`. A task cancelled
    /// while it waits leaves the line and throws `CancellationError`.
    public func run<T: Sendable>(caller: String, subject: String, _ body: () async throws -> T) async throws -> T {
        try await take(caller: caller, subject: subject)
        defer { finish() }
        return try await body()
    }

    private func take(caller: String, subject: String) async throws {
        let id: UInt64? = state.withLock { state in
            if state.running < concurrency && state.callers.isEmpty {
                state.running += 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Start { case now, later, cancelled }
                let start = state.withLock { state -> Start in
                    if Task.isCancelled { return .cancelled }
                    // A turn may have come free since the first look.
                    if state.running < concurrency && state.callers.isEmpty {
                        state.running += 1
                        return .now
                    }
                    state.enqueue(Waiter(id: id, continuation: continuation), caller: caller, subject: subject)
                    return .later
                }
                switch start {
                case .now: continuation.resume()
                case .later: break
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            state.withLock { $0.remove(id, caller: caller, subject: subject) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Gives the turn to the next waiting call, or frees it.
    private func finish() {
        let next = state.withLock { state -> Waiter? in
            guard let next = state.dequeue() else {
                state.running -= 1
                return nil
            }
            return next
        }
        next?.continuation.resume()
    }
}
