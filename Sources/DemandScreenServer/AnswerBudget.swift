import Synchronization

/// The answer bytes one connection has waiting in the server: counted when a call hands its
/// answer to the connection, uncounted when the channel has written it to the socket. The read
/// loop admits no new call while more than `bound` are waiting, and goes on once they are down to
/// half of it, so a client that does not read its answers holds at most `bound` plus the answers
/// of the calls already in flight, however small its requests and large its answers.
final class AnswerBudget: Sendable {
    private struct State {
        var waiting = 0
        var closed = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let bound: Int
    private let state = Mutex(State())

    init(bound: Int) {
        self.bound = max(1, bound)
    }

    /// Whether more than `bound` answer bytes wait: no new call is admitted.
    var isOverBound: Bool { state.withLock { $0.waiting > bound } }

    /// Counts an answer of `bytes` handed to the connection.
    func queued(_ bytes: Int) {
        state.withLock { $0.waiting += bytes }
    }

    /// Uncounts an answer of `bytes` the channel has written (or dropped as it closed).
    func written(_ bytes: Int) {
        let resumed: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.waiting -= bytes
            guard state.waiting <= bound / 2, !state.waiters.isEmpty else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in resumed { waiter.resume() }
    }

    /// Returns once at most `bound` answer bytes wait, or the connection has closed.
    func waitForRoom() async {
        if state.withLock({ $0.closed || $0.waiting <= bound }) { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.closed || state.waiting <= bound { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// The connection has closed: nothing waits for room any more.
    func close() {
        let resumed = state.withLock { state in
            state.closed = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in resumed { waiter.resume() }
    }
}
