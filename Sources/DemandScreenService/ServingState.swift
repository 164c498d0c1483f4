import Synchronization

/// Whether the daemon is ready to serve, as `Health/Check` (and later `/readyz`) report it.
public final class ServingState: Sendable {
    private let state = Mutex<(serving: Bool, reason: String)>((false, "starting"))

    public init() {}

    /// Serving, or not serving with the reason.
    public var current: (serving: Bool, reason: String) { state.withLock { $0 } }

    public func markServing() { state.withLock { $0 = (true, "serving") } }

    public func markNotServing(_ reason: String) { state.withLock { $0 = (false, reason) } }
}
