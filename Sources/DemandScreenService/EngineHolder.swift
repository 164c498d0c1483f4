public import ScreeningEngine
import Synchronization

/// The engine in force. A policy reload swaps it whole; calls already running keep the engine
/// they started with, so no call sees half a policy.
public final class EngineHolder: Sendable {
    private let engine: Mutex<ScreeningEngine>

    public init(_ engine: ScreeningEngine) {
        self.engine = Mutex(engine)
    }

    public var current: ScreeningEngine { engine.withLock { $0 } }

    public func replace(with newEngine: ScreeningEngine) {
        engine.withLock { $0 = newEngine }
    }
}
