/// How long to wait before sending a failed request again.
///
/// Retryable failures back off exponentially with full jitter — a uniformly random wait
/// between zero and `initialBackoff · 2^attempt`, capped at `maxBackoff` — so that many agents
/// hit by the same outage do not come back in step. A server's `Retry-After` wins when it asks
/// for longer. Wrong credentials are retried every `authBackoff`: nothing else will fix them,
/// and the data must not be dropped. There is no retry limit: the agent retries or
/// dead-letters, it never drops.
public struct RetryPolicy: Sendable {
    public var settings: RetrySettings
    /// A uniformly distributed number in `0..<1`; injectable so tests get exact waits.
    public var random: @Sendable () -> Double

    public init(settings: RetrySettings, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.settings = settings
        self.random = random
    }

    /// The upper bound of the wait before retry number `attempt` (0 for the first retry).
    public func ceiling(attempt: Int) -> Duration {
        let maximum = settings.maxBackoff
        var ceiling = settings.initialBackoff
        var step = 0
        while step < attempt, ceiling < maximum {
            ceiling = ceiling * 2
            step += 1
        }
        return min(ceiling, maximum)
    }

    /// The wait before retry number `attempt` of a retryable failure, at least `retryAfter`.
    public func delay(attempt: Int, retryAfter: Duration? = nil) -> Duration {
        let jittered = ceiling(attempt: attempt) * min(max(random(), 0), 1)
        guard let retryAfter else { return jittered }
        return max(jittered, min(retryAfter, Self.longestRetryAfter))
    }

    /// The wait after Track refused the credentials or the endpoint is wrong.
    public var authDelay: Duration { settings.authBackoff }

    /// A `Retry-After` longer than this is taken as this: a server must not park the agent
    /// for days.
    public static let longestRetryAfter: Duration = .seconds(3600)
}
