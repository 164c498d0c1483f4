import NIOCore
import Synchronization

/// One connection's admission of calls: at most `maximumInFlight` run at once (the read loop
/// waits for a slot, which stops reading and pushes back on the client), and a draining
/// connection admits no new call and closes once its last call has answered.
final class ConnectionState: Sendable {
    private struct State {
        var inFlight = 0
        var draining = false
        var waiters: [CheckedContinuation<Bool, Never>] = []
    }

    private let channel: any Channel
    private let maximumInFlight: Int
    private let state = Mutex(State())

    init(channel: any Channel, maximumInFlight: Int) {
        self.channel = channel
        self.maximumInFlight = max(1, maximumInFlight)
    }

    /// Takes a slot for one call, waiting while all are taken. False when the connection drains.
    func admit() async -> Bool {
        enum Decision { case admitted, refused, wait }
        let decision: Decision = state.withLock { state in
            if state.draining { return .refused }
            if state.inFlight < maximumInFlight {
                state.inFlight += 1
                return .admitted
            }
            return .wait
        }
        switch decision {
        case .admitted: return true
        case .refused: return false
        case .wait:
            return await withCheckedContinuation { continuation in
                let admittedNow: Bool? = state.withLock { state in
                    if state.draining { return false }
                    if state.inFlight < maximumInFlight {
                        state.inFlight += 1
                        return true
                    }
                    state.waiters.append(continuation)
                    return nil
                }
                if let admittedNow { continuation.resume(returning: admittedNow) }
            }
        }
    }

    /// Gives back a call's slot, to a waiting call if there is one.
    func release() {
        let (waiter, closeNow): (CheckedContinuation<Bool, Never>?, Bool) = state.withLock { state in
            if !state.waiters.isEmpty {
                return (state.waiters.removeFirst(), false)
            }
            state.inFlight -= 1
            return (nil, state.draining && state.inFlight == 0)
        }
        waiter?.resume(returning: true)
        if closeNow { channel.close(promise: nil) }
    }

    /// Admits no new call and closes the connection once the calls in flight have answered.
    func drain() {
        let (waiters, closeNow): ([CheckedContinuation<Bool, Never>], Bool) = state.withLock { state in
            state.draining = true
            let waiters = state.waiters
            state.waiters = []
            return (waiters, state.inFlight == 0)
        }
        for waiter in waiters { waiter.resume(returning: false) }
        if closeNow { channel.close(promise: nil) }
    }
}
