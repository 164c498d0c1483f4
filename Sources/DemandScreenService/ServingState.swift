import Synchronization

/// Whether the daemon is ready to serve, as `Health/Check` reports it: listening and not shutting
/// down, and its store taking writes.
public final class ServingState: Sendable {
    private struct State {
        var lifecycle = (serving: false, reason: "starting")
        var storageProblem: String?
    }

    private let state = Mutex(State())

    public init() {}

    /// Serving, or not serving with the reason.
    public var current: (serving: Bool, reason: String) {
        state.withLock { state in
            guard state.lifecycle.serving else { return state.lifecycle }
            if let problem = state.storageProblem { return (false, "storage unavailable: \(problem)") }
            return state.lifecycle
        }
    }

    /// The store's problem while it has one.
    public var storageProblem: String? { state.withLock { $0.storageProblem } }

    public func markServing() { state.withLock { $0.lifecycle = (true, "serving") } }

    public func markNotServing(_ reason: String) { state.withLock { $0.lifecycle = (false, reason) } }

    /// Records a storage failure; true when the store was healthy until now.
    public func markStorageFailed(_ problem: String) -> Bool {
        state.withLock { state in
            defer { state.storageProblem = problem }
            return state.storageProblem == nil
        }
    }

    public func markStorageRecovered() { state.withLock { $0.storageProblem = nil } }
}
