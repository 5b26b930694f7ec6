import Testing

@testable import TailTrack

/// `max_requests_per_second` as slots: each request waits for the next free one.
@Suite struct RequestRateLimiterTests {
    let start = ContinuousClock.now

    @Test func requestsAreSpacedEvenly() {
        var limiter = RequestRateLimiter(requestsPerSecond: 4)
        #expect(limiter.reserve(now: start) == .zero)
        #expect(limiter.reserve(now: start) == .milliseconds(250))
        #expect(limiter.reserve(now: start + .milliseconds(100)) == .milliseconds(400))
        // After a quiet while, the next request goes at once.
        #expect(limiter.reserve(now: start + .seconds(5)) == .zero)
    }

    @Test func zeroMeansNoCap() {
        var limiter = RequestRateLimiter(requestsPerSecond: 0)
        for _ in 0..<5 { #expect(limiter.reserve(now: start) == .zero) }
    }
}
