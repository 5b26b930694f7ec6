import Testing

@testable import TailTrack

/// The shared backoff as a state machine: its states, the events it is told, and the waits it
/// asks for, with instants made up by the test (no clock, no server).
@Suite struct SharedBackoffTests {
    let start = ContinuousClock.now
    /// Ceilings 100 ms, 200 ms, 400 ms, then 800 ms; the jitter always takes the whole ceiling.
    let policy = RetryPolicy(
        settings: RetrySettings(initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(800)),
        random: { 1 })

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    @Test func whileRunningEveryRequestGoesAndAnswersChangeNothing() {
        var backoff = SharedBackoff(policy: policy)
        #expect(backoff.turn(now: at(0)) == .send(probe: false))
        #expect(backoff.turn(now: at(0)) == .send(probe: false))
        #expect(backoff.record(.answered, probe: false, now: at(5)) == SharedBackoff.Change.none)
        #expect(backoff.failures == 0)
        #expect(backoff.pausedUntil == nil)
    }

    @Test func aFailurePausesEveryRequestThenOneProbes() {
        var backoff = SharedBackoff(policy: policy)
        #expect(backoff.turn(now: at(0)) == .send(probe: false))
        #expect(
            backoff.record(.failed(retryAfter: nil), probe: false, now: at(10))
                == .paused(
                    delay: .milliseconds(100), failures: 1))
        // Every request waits for the same instant.
        #expect(backoff.turn(now: at(20)) == .sleep(until: at(110)))
        #expect(backoff.turn(now: at(109)) == .sleep(until: at(110)))
        // Then one request alone probes; the others wait for its answer.
        #expect(backoff.turn(now: at(110)) == .send(probe: true))
        #expect(backoff.probing)
        #expect(backoff.turn(now: at(111)) == .awaitProbe)
    }

    @Test func aFailedProbePausesAgainLonger() {
        var backoff = SharedBackoff(policy: policy)
        _ = backoff.record(.failed(retryAfter: nil), probe: false, now: at(0))
        var delays: [Duration] = []
        var now = 100
        for _ in 0..<4 {
            #expect(backoff.turn(now: at(now)) == .send(probe: true))
            guard case .paused(let delay, _) = backoff.record(.failed(retryAfter: nil), probe: true, now: at(now))
            else {
                Issue.record("a failed probe must pause again")
                return
            }
            #expect(!backoff.probing)
            delays.append(delay)
            now += Int(delay / .milliseconds(1))
        }
        #expect(delays == [.milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(800)])
        #expect(backoff.failures == 5)
    }

    @Test func anAnswerToTheProbeEndsThePause() {
        var backoff = SharedBackoff(policy: policy)
        _ = backoff.record(.failed(retryAfter: nil), probe: false, now: at(0))
        #expect(backoff.turn(now: at(100)) == .send(probe: true))
        #expect(backoff.record(.answered, probe: true, now: at(120)) == .recovered(failures: 1))
        #expect(backoff.turn(now: at(121)) == .send(probe: false))
        #expect(backoff.turn(now: at(121)) == .send(probe: false))
        #expect(backoff.failures == 0)
    }

    @Test func failuresOfRequestsAlreadyOutDoNotLengthenThePause() {
        var backoff = SharedBackoff(policy: policy)
        // Four requests were out when the first failed.
        _ = backoff.record(.failed(retryAfter: nil), probe: false, now: at(0))
        for _ in 0..<3 {
            #expect(backoff.record(.failed(retryAfter: nil), probe: false, now: at(5)) == SharedBackoff.Change.none)
        }
        #expect(backoff.failures == 1)
        #expect(backoff.pausedUntil == at(100))
    }

    @Test func retryAfterSetsTheLeastPauseAndALongerOneFromARequestAlreadyOutCounts() {
        var backoff = SharedBackoff(policy: policy)
        // A 429 asking for 2 s: longer than the 100 ms backoff.
        #expect(
            backoff.record(.failed(retryAfter: .seconds(2)), probe: false, now: at(0))
                == .paused(
                    delay: .seconds(2), failures: 1))
        // A request that was already out is told 5 s: the pause lasts until then.
        #expect(
            backoff.record(.failed(retryAfter: .seconds(5)), probe: false, now: at(10)) == SharedBackoff.Change.none)
        #expect(backoff.turn(now: at(2_000)) == .sleep(until: at(5_010)))
        // A shorter one changes nothing.
        _ = backoff.record(.failed(retryAfter: .seconds(1)), probe: false, now: at(20))
        #expect(backoff.pausedUntil == at(5_010))
        // A Retry-After of days is taken as an hour.
        #expect(
            backoff.record(.failed(retryAfter: .seconds(86_400 * 3)), probe: false, now: at(0))
                == SharedBackoff.Change.none)
        #expect(backoff.pausedUntil == at(0) + RetryPolicy.longestRetryAfter)
    }

    @Test func anAnswerFromARequestAlreadyOutAlsoEndsThePause() {
        var backoff = SharedBackoff(policy: policy)
        _ = backoff.record(.failed(retryAfter: nil), probe: false, now: at(0))
        #expect(backoff.record(.answered, probe: false, now: at(10)) == .recovered(failures: 1))
        #expect(backoff.turn(now: at(11)) == .send(probe: false))
    }

    @Test func anAbandonedProbeLetsAnotherRequestProbe() {
        var backoff = SharedBackoff(policy: policy)
        _ = backoff.record(.failed(retryAfter: nil), probe: false, now: at(0))
        #expect(backoff.turn(now: at(100)) == .send(probe: true))
        #expect(backoff.turn(now: at(100)) == .awaitProbe)
        backoff.probeAbandoned()
        #expect(backoff.turn(now: at(101)) == .send(probe: true))
    }
}
