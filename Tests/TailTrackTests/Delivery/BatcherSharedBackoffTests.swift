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
        private var inFlight = 0
        private var answeredOnce = false
        private var failedOnce = false
        /// Per request: requests in flight at its start (itself included), and whether it
        /// started after a failure and before any success.
        private(set) var starts: [(concurrent: Int, duringOutage: Bool)] = []

        init(failures: Int) {
            failuresLeft = failures
        }

        func send(body: [UInt8]) async -> TrackOutcome {
            inFlight += 1
            starts.append((inFlight, failedOnce && !answeredOnce))
            try? await Task.sleep(for: .milliseconds(20))
            inFlight -= 1
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
        let directory = try DeliveryTempDirectory()
        defer { directory.remove() }
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
                settings: RetrySettings(initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(100)),
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

        let starts = await track.starts
        // 10 failures (the first up to 4 at once, then one probe at a time), then 8 successes.
        #expect(starts.count == 18)
        let probes = starts.filter(\.duringOutage)
        #expect(probes.count >= 6)
        #expect(probes.allSatisfy { $0.concurrent == 1 })
        #expect(await log.offsets == [800])
        #expect(await batcher.statistics().retries == ["server_error": 10])
    }
}
