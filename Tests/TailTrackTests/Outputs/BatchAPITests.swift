import Foundation
import NIOCore
import Testing

@testable import TailTrack

/// The ``Batcher`` delivers to any ``BatchAPI``: here one shaped like the Pipelines API, with
/// its own envelope, limits and name, answering from a script.
@Suite struct BatchAPITests {
    /// An API with a `{"batch":[…],"context":{}}` body, 400-byte requests and 200-byte
    /// operations, that answers each request with the next scripted outcome (then accepts).
    actor ScriptedAPI: BatchAPI {
        static let head = Array(#"{"batch":["#.utf8)
        static let tail = Array(#"],"context":{}}"#.utf8)

        nonisolated let name = "Pipelines"
        nonisolated let limits = BatchRequestLimits(
            requestBytes: 400, operationBytes: 200, envelopeBytes: ScriptedAPI.head.count + ScriptedAPI.tail.count)
        private var script: [BatchOutcome]
        private(set) var bodies: [[UInt8]] = []

        init(script: [BatchOutcome]) {
            self.script = script
        }

        nonisolated func body(joining texts: [ArraySlice<UInt8>]) -> ByteBuffer {
            var buffer = ByteBuffer(bytes: Self.head)
            for (index, text) in texts.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                buffer.writeBytes(text)
            }
            buffer.writeBytes(Self.tail)
            return buffer
        }

        func deliver(body: ByteBuffer) async -> BatchOutcome {
            bodies.append(Array(buffer: body))
            return script.isEmpty ? .accepted : script.removeFirst()
        }
    }

    @Test func anotherAPIGetsBatchingRetriesAndDeadLettersFromTheBatcher() async throws {
        let directory = try TemporaryDirectory()
        let rejected = DeliveryError(status: 400, code: .badRequest, message: "no userId")
        let api = ScriptedAPI(script: [
            .partiallyRejected([BatchItemRejection(index: 1, reason: "missing userId")]),
            .retryable(DeliveryError(status: 429, code: .rateLimited, message: "slow down"), retryAfter: .zero),
            .accepted,
            .rejected(rejected),
        ])
        let log = AcknowledgementLog()
        let batcher = Batcher(
            batch: BatchSettings(flushInterval: .seconds(60), maxInFlight: 1, maxRequestsPerSecond: 10_000),
            retry: RetryPolicy(settings: DeliveryFixture.fastRetry, random: { 1 }),
            deadLetters: DeadLetterWriter(stateDirectory: directory.path, settings: DeadLetterSettings()),
            client: api,
            logger: DeliveryFixture.logger,
            acknowledge: { file, offset in await log.record(file, offset) }
        )
        let service = Task { try await batcher.run() }
        // Seven 120-byte operations and one of 250 bytes, over the API's 200.
        var operations = (0..<7).map { DeliveryFixture.operation($0) }
        operations.insert(DeliveryFixture.operation(9, size: 250), at: 3)
        await batcher.submit(DeliveryFixture.chunk(endOffset: 90, operations))
        #expect(await batcher.drain(timeout: .seconds(10)))
        service.cancel()
        _ = await service.result

        // Three operations fill a 400-byte request (25 + 360 + 2), although batch.max_bytes is
        // 500,000; the rate-limited one went again with the same bytes.
        let bodies = await api.bodies
        #expect(bodies.map(\.count) == [387, 387, 387, 145])
        #expect(bodies[1] == bodies[2])
        let letters = directory.lines(DeadLetterWriter.fileName).compactMap { DeadLetter(jsonLine: Array($0.utf8)) }
        #expect(letters.map(\.offset) == [90, 10, 60])
        #expect(
            letters.map(\.reason) == [
                "operation is 250 bytes; Pipelines accepts at most 200 bytes per operation",
                "missing userId",
                "Pipelines rejected it: \(rejected.description)",
            ])
        #expect(await log.offsets == [90])
        let stats = await batcher.statistics()
        #expect(stats.retries == ["rate_limited": 1])
        #expect(stats.operationsSent == 5)
        #expect(stats.deadLetters == 3)
    }
}
