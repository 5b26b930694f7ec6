/// Spaces requests evenly under `batch.max_requests_per_second` (Track's fair-use cap): each
/// request reserves the next free slot, `1 / max_requests_per_second` after the previous one.
/// A value without a clock: the caller passes the time and sleeps for the wait it returns.
struct RequestRateLimiter: Sendable {
    /// Requests per second at most; zero or less means no cap.
    let requestsPerSecond: Double
    /// The earliest instant the next request may go.
    private var nextSlot: ContinuousClock.Instant?

    init(requestsPerSecond: Double) {
        self.requestsPerSecond = requestsPerSecond
    }

    /// Reserves the next slot for a request that would go at `now`; returns how long it must
    /// wait for it (zero when it may go at once).
    mutating func reserve(now: ContinuousClock.Instant) -> Duration {
        let slot = max(now, nextSlot ?? now)
        nextSlot = requestsPerSecond > 0 ? slot + .seconds(1 / requestsPerSecond) : slot
        return slot - now
    }
}
