/// A token bucket: `capacity` tokens at most, refilled at `ratePerSecond`; a call takes one.
/// A value without a clock of its own: every operation is told the time.
public struct TokenBucket: Sendable {
    /// Tokens added per second.
    public let ratePerSecond: Double
    /// The most tokens the bucket holds: the burst above the rate.
    public let capacity: Double
    /// Tokens in the bucket as of the last operation.
    public private(set) var tokens: Double
    private var updated: ContinuousClock.Instant

    /// A full bucket.
    public init(ratePerSecond: Double, capacity: Int, now: ContinuousClock.Instant = .now) {
        self.ratePerSecond = max(ratePerSecond, .leastNonzeroMagnitude)
        self.capacity = Double(max(1, capacity))
        self.tokens = self.capacity
        self.updated = now
    }

    /// Takes a token if there is one and returns nil; else takes nothing and returns how long it
    /// will be until there is one.
    public mutating func take(now: ContinuousClock.Instant = .now) -> Duration? {
        refill(now: now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        // At most a day: a rate near zero would otherwise ask for a wait no Duration holds.
        let seconds = min((1 - tokens) / ratePerSecond, 86_400)
        return .nanoseconds(Int64((seconds * 1e9).rounded(.up)))
    }

    /// Whether the bucket would be full at `now` (an idle caller's bucket can be forgotten).
    public func isFull(now: ContinuousClock.Instant) -> Bool {
        var copy = self
        copy.refill(now: now)
        return copy.tokens >= capacity
    }

    private mutating func refill(now: ContinuousClock.Instant) {
        guard now > updated else { return }
        let (seconds, attoseconds) = (now - updated).components
        let elapsed = Double(seconds) + Double(attoseconds) / 1e18
        tokens = min(capacity, tokens + elapsed * ratePerSecond)
        updated = now
    }
}
