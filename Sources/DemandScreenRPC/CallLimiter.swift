import Synchronization

/// Admission of calls across all connections: at most `maxCallsInFlight` in flight in total, and
/// for each caller identity at most `maxCallsInFlightPerIdentity` in flight and
/// `callsPerSecondPerIdentity` (a token bucket of `callBurstPerIdentity`), so that one caller
/// cannot take the capacity of the others. A refused call gets RESOURCE_EXHAUSTED with a retry
/// hint (`retry-after-ms`). Knows nothing of transports or methods.
public final class CallLimiter: Sendable {
    /// The limits, as the daemon's `limits.*` keys set them.
    public struct Limits: Sendable, Hashable {
        /// Calls in flight in total.
        public var maxCallsInFlight: Int
        /// Calls in flight for one caller identity.
        public var maxCallsInFlightPerIdentity: Int
        /// Calls per second one identity may start, on average; 0 = no rate limit.
        public var callsPerSecondPerIdentity: Int
        /// Calls one identity may start at once above its rate (the bucket's size).
        public var callBurstPerIdentity: Int

        /// The daemon's defaults: in-flight limits on, no rate limit.
        public init(
            maxCallsInFlight: Int = 4096,
            maxCallsInFlightPerIdentity: Int = 1024,
            callsPerSecondPerIdentity: Int = 0,
            callBurstPerIdentity: Int = 0
        ) {
            self.maxCallsInFlight = maxCallsInFlight
            self.maxCallsInFlightPerIdentity = maxCallsInFlightPerIdentity
            self.callsPerSecondPerIdentity = callsPerSecondPerIdentity
            self.callBurstPerIdentity = callBurstPerIdentity
        }
    }

    /// Why a call was refused; the raw value is the metrics label.
    public enum Refusal: String, Sendable, CaseIterable {
        case callsInFlight = "calls_in_flight"
        case identityCallsInFlight = "identity_calls_in_flight"
        case identityRate = "identity_rate"
    }

    /// A refused call: why, and the error its caller gets.
    public struct Refused: Error, Sendable {
        /// Which limit refused it.
        public var reason: Refusal
        /// RESOURCE_EXHAUSTED with the limit named and `retry-after-ms` in its metadata.
        public var callError: CallError
    }

    /// An admitted call's place; give it back with `release(_:)`.
    public struct Ticket: Sendable {
        fileprivate let identity: String?
    }

    /// The retry hint given when the calls in flight are at a limit.
    public static let inFlightRetryHint: Duration = .milliseconds(100)

    private struct Caller {
        var inFlight = 0
        var bucket: TokenBucket?
    }

    private struct State {
        var inFlight = 0
        var callers: [String: Caller] = [:]
    }

    /// The limits in force.
    public let limits: Limits
    private let state = Mutex(State())

    /// A limiter with no call in flight.
    public init(limits: Limits) {
        self.limits = limits
    }

    /// Calls in flight now.
    public var callsInFlight: Int { state.withLock { $0.inFlight } }

    /// Admits a call of `identity` (nil: a call that needs no credential, counted only in the
    /// total), or says why not.
    public func admit(identity: String?, now: ContinuousClock.Instant = .now) -> Result<Ticket, Refused> {
        let limits = self.limits
        return state.withLock { state -> Result<Ticket, Refused> in
            guard state.inFlight < limits.maxCallsInFlight else {
                return .failure(
                    Refused(
                        reason: .callsInFlight,
                        callError: .resourceExhausted(
                            "the server has \(limits.maxCallsInFlight) calls in flight (limits.maxCallsInFlight); retry later",
                            retryAfter: Self.inFlightRetryHint)))
            }
            if let identity {
                if state.callers.count > 4096 { Self.forgetIdle(&state, now: now) }
                var caller = state.callers[identity] ?? Caller()
                guard caller.inFlight < limits.maxCallsInFlightPerIdentity else {
                    return .failure(
                        Refused(
                            reason: .identityCallsInFlight,
                            callError: .resourceExhausted(
                                "\(identity) has \(limits.maxCallsInFlightPerIdentity) calls in flight "
                                    + "(limits.maxCallsInFlightPerIdentity); retry later",
                                retryAfter: Self.inFlightRetryHint)))
                }
                if limits.callsPerSecondPerIdentity > 0 {
                    var bucket =
                        caller.bucket
                        ?? TokenBucket(
                            ratePerSecond: Double(limits.callsPerSecondPerIdentity),
                            capacity: max(1, limits.callBurstPerIdentity), now: now)
                    let wait = bucket.take(now: now)
                    caller.bucket = bucket
                    if let wait {
                        state.callers[identity] = caller
                        return .failure(
                            Refused(
                                reason: .identityRate,
                                callError: .resourceExhausted(
                                    "\(identity) is over \(limits.callsPerSecondPerIdentity) calls per second "
                                        + "(limits.callsPerSecondPerIdentity); retry later",
                                    retryAfter: wait)))
                    }
                }
                caller.inFlight += 1
                state.callers[identity] = caller
            }
            state.inFlight += 1
            return .success(Ticket(identity: identity))
        }
    }

    /// Gives back an admitted call's place.
    public func release(_ ticket: Ticket, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            state.inFlight -= 1
            guard let identity = ticket.identity, var caller = state.callers[identity] else { return }
            caller.inFlight -= 1
            if caller.inFlight == 0, caller.bucket?.isFull(now: now) ?? true {
                state.callers[identity] = nil
            } else {
                state.callers[identity] = caller
            }
        }
    }

    /// Forgets callers with nothing in flight and a full bucket: they are as if never seen.
    private static func forgetIdle(_ state: inout State, now: ContinuousClock.Instant) {
        state.callers = state.callers.filter { _, caller in
            caller.inFlight > 0 || !(caller.bucket?.isFull(now: now) ?? true)
        }
    }
}
