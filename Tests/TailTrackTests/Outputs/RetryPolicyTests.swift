import Foundation
import Testing

@testable import TailTrack

@Suite struct RetryPolicyTests {
    let settings = RetrySettings(initialBackoff: .milliseconds(100), maxBackoff: .seconds(1), authBackoff: .seconds(30))

    @Test func ceilingDoublesUpToTheMaximum() {
        let policy = RetryPolicy(settings: settings)
        #expect(
            (0...5).map(policy.ceiling(attempt:)) == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1),
                .seconds(1),
            ])
        #expect(policy.ceiling(attempt: 10_000) == .seconds(1))
    }

    @Test func fullJitterScalesTheCeiling() {
        let half = RetryPolicy(settings: settings, random: { 0.5 })
        #expect(half.delay(attempt: 2) == .milliseconds(200))
        let zero = RetryPolicy(settings: settings, random: { 0 })
        #expect(zero.delay(attempt: 3) == .zero)
    }

    @Test func retryAfterWinsWhenLonger() {
        let policy = RetryPolicy(settings: settings, random: { 0.5 })
        #expect(policy.delay(attempt: 0, retryAfter: .seconds(2)) == .seconds(2))
        #expect(policy.delay(attempt: 2, retryAfter: .milliseconds(10)) == .milliseconds(200))
        #expect(policy.delay(attempt: 0, retryAfter: .seconds(86_400)) == RetryPolicy.longestRetryAfter)
    }

    @Test func credentialsAreRetriedEveryAuthBackoff() {
        #expect(RetryPolicy(settings: settings).authDelay == .seconds(30))
    }
}
