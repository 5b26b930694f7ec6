import Foundation
import Testing

@testable import TailTrack

/// Retries share one pause: after a retryable failure, one request at a time probes Track
/// until it answers, whatever `max_in_flight` is.
@Suite struct BatcherSharedBackoffTests {
    /// A Track that fails the first `failures` requests with a 503 and records how many
    /// requests were in flight when each one started.
    actor FlakyTrack: TrackSending {
        private var failuresLeft: Int
        private var outageInFlight = 0
        private var answeredOnce = false
        private var failedOnce = false
        /// Per request started after a failure and before any success: how many such requests
        /// were in flight at its start (itself included).
        private(set) var outageStarts: [Int] = []

        init(failures: Int) {
            failuresLeft = failures
        }

        private(set) var requests = 0

        func send(body: [UInt8]) async -> TrackOutcome {
            requests += 1
            let duringOutage = failedOnce && !answeredOnce
            if duringOutage {
                outageInFlight += 1
                outageStarts.append(outageInFlight)
            }
            try? await Task.sleep(for: .milliseconds(20))
            if duringOutage { outageInFlight -= 1 }
            if failuresLeft > 0 {
                failuresLeft -= 1
                failedOnce = true
                return .retryable(DeliveryError(status: 503, code: .serverError, message: "down"), retryAfter: nil)
            }
            answeredOnce = true
            return .accepted(status: 200)
        }
    }

    @Test func afterAFailureOneRequestAtATimeProbesUntilTrackAnswers() async throws {
        let directory = try TemporaryDirectory()
        let track = FlakyTrack(failures: 10)
        let log = AcknowledgementLog()
        let operation = DeliveryFixture.operation(0)
        let batcher = Batcher(
            batch: BatchSettings(
                maxBytes: TrackBatchBody.size(operationBytes: operation.bytes.count, count: 1),
                flushInterval: .milliseconds(1),
                maxInFlight: 4,
                maxRequestsPerSecond: 10_000
            ),
            retry: RetryPolicy(
                settings: RetrySettings(initialBackoff: .milliseconds(200), maxBackoff: .milliseconds(200)),
                random: { 1 }
            ),
            deadLetters: DeadLetterWriter(stateDirectory: directory.path, settings: DeadLetterSettings()),
            client: track,
            logger: DeliveryFixture.logger,
            acknowledge: { file, offset in await log.record(file, offset) }
        )
        let service = Task { try await batcher.run() }
        let operations = (0..<8).map { DeliveryFixture.operation($0) }
        await batcher.submit(DeliveryFixture.chunk(endOffset: 800, operations))
        #expect(await batcher.drain(timeout: .seconds(20)))
        service.cancel()
        _ = await service.result

        // 10 failures (the first up to 4 at once, then one probe at a time), then 8 successes:
        // the requests sent during the outage never overlapped.
        let outageStarts = await track.outageStarts
        #expect(outageStarts.count >= 6)
        #expect(outageStarts.allSatisfy { $0 == 1 }, "in flight at each start: \(outageStarts)")
        #expect(await track.requests == 18)
        #expect(await log.offsets == [800])
        #expect(await batcher.statistics().retries == ["server_error": 10])
    }
}
