/// The one pause that every request to an API shares after a retryable failure, as a state
/// machine: no clock, no tasks, no network. The ``Batcher`` asks it for a ``Turn`` before each
/// request and reports each answer as an ``Event``; it sleeps, waits and logs as told.
///
/// - Running: requests go as they come (within `max_requests_per_second`).
/// - Paused: a retryable failure stops every request until the backoff
///   (``RetryPolicy/delay(attempt:retryAfter:)``, at least the server's `Retry-After`) is over.
/// - Probing: after the pause one request alone goes; the others wait for its answer. When it
///   fails, the pause starts again, longer; when the API answers (whatever it says about the
///   operations), every request goes again.
///
/// A request that was already out when the pause began changes nothing when it fails too,
/// except that a longer `Retry-After` is honoured. So a down endpoint sees about one request
/// per backoff interval, however many requests were in flight.
struct SharedBackoff: Sendable {
    /// What a request about to go must do.
    enum Turn: Equatable, Sendable {
        /// Go now. A `probe` finds out whether the API is back: its answer must be reported
        /// with `probe: true`, or ``probeAbandoned()`` called when it does not go after all.
        case send(probe: Bool)
        /// The pause lasts until this instant; ask again then.
        case sleep(until: ContinuousClock.Instant)
        /// Another request is probing; ask again once it has its answer.
        case awaitProbe
    }

    /// What became of a request.
    enum Event: Equatable, Sendable {
        /// A retryable failure (timeout, lost connection, 5xx, 429), with the server's
        /// `Retry-After` when it gave one.
        case failed(retryAfter: Duration?)
        /// The API answered: accepted, rejected, or refused the credentials.
        case answered
    }

    /// What changed, for the log.
    enum Change: Equatable, Sendable {
        /// A pause began (the first failure) or began again (a failed probe): every request
        /// waits `delay`. `failures` counts the retryable failures in a row so far.
        case paused(delay: Duration, failures: Int)
        /// The API answered after `failures` retryable failures in a row: the pause is over.
        case recovered(failures: Int)
        /// No pause began or ended.
        case none
    }

    private let policy: RetryPolicy
    /// Retryable failures in a row: the backoff's attempt number, zero while running.
    private(set) var failures = 0
    /// No request goes before this instant.
    private(set) var pausedUntil: ContinuousClock.Instant?
    /// A request is out probing; the others wait for its answer.
    private(set) var probing = false

    init(policy: RetryPolicy) {
        self.policy = policy
    }

    /// What a request about to go at `now` must do. Answering ``Turn/send(probe:)`` with a
    /// probe puts the machine in the probing state.
    mutating func turn(now: ContinuousClock.Instant) -> Turn {
        if let until = pausedUntil, now < until { return .sleep(until: until) }
        if probing { return .awaitProbe }
        guard failures > 0 else { return .send(probe: false) }
        probing = true
        return .send(probe: true)
    }

    /// The probe will not go (its task was cancelled): another request may probe.
    mutating func probeAbandoned() {
        probing = false
    }

    /// Records what became of a request sent at its ``Turn/send(probe:)``; `probe` as it said.
    mutating func record(_ event: Event, probe: Bool, now: ContinuousClock.Instant) -> Change {
        if probe { probing = false }
        switch event {
        case .answered:
            let failed = failures
            failures = 0
            pausedUntil = nil
            return failed > 0 ? .recovered(failures: failed) : .none
        case .failed(let retryAfter):
            guard probe || failures == 0 else {
                // Out before the pause began: only a longer Retry-After counts.
                if let retryAfter {
                    let asked = now + min(retryAfter, RetryPolicy.longestRetryAfter)
                    pausedUntil = max(pausedUntil ?? asked, asked)
                }
                return .none
            }
            let delay = policy.delay(attempt: failures, retryAfter: retryAfter)
            pausedUntil = now + delay
            failures += 1
            return .paused(delay: delay, failures: failures)
        }
    }
}
