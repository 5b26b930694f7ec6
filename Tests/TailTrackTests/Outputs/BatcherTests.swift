import Foundation
import Logging
import Testing
import TrackTestServer

@testable import TailTrack

@Suite struct BatcherTests {
    typealias Fixture = DeliveryFixture

    /// Runs a batcher against a fresh test server; `body` gets the batcher, the server, the
    /// acknowledgements and the state directory.
    private func withBatcher(
        _ batch: BatchSettings,
        rejectWhole: Bool = false,
        retry: RetrySettings = DeliveryFixture.fastRetry,
        logs: CapturedLogs = CapturedLogs(),
        acknowledgingTogether: Bool = false,
        _ body: (Batcher, TrackTestServer, AcknowledgementLog, TemporaryDirectory) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory()
        let server = try await Fixture.makeServer(rejectWhole: rejectWhole)
        let client = try TrackClient(settings: Fixture.trackSettings(url: server.url), logger: Fixture.logger)
        let log = AcknowledgementLog()
        let deadLetters = DeadLetterWriter(stateDirectory: directory.path, settings: DeadLetterSettings())
        let batcher =
            acknowledgingTogether
            ? Batcher(
                batch: batch, retry: RetryPolicy(settings: retry, random: { 1 }), deadLetters: deadLetters,
                client: client, logger: logs.logger(), acknowledgeAll: { await log.recordAll($0) })
            : Batcher(
                batch: batch, retry: RetryPolicy(settings: retry, random: { 1 }), deadLetters: deadLetters,
                client: client, logger: logs.logger(), acknowledge: { file, offset in await log.record(file, offset) })
        let service = Task { try await batcher.run() }
        do {
            try await body(batcher, server, log, directory)
        } catch {
            Issue.record(error)
        }
        service.cancel()
        _ = await service.result
        await client.shutdown()
        try await server.shutdown()
    }

    private func deadLetters(_ directory: TemporaryDirectory) -> [DeadLetter] {
        directory.lines(DeadLetterWriter.fileName).compactMap { DeadLetter(jsonLine: Array($0.utf8)) }
    }

    @Test func packsBodiesUpToMaxBytesExactly() async throws {
        // Three 120-byte operations make a body of exactly 12 + 360 + 2 = 374 bytes.
        let batch = BatchSettings(
            maxBytes: 374, flushInterval: .seconds(60), maxInFlight: 1, maxRequestsPerSecond: 1000)
        try await withBatcher(batch) { batcher, server, log, _ in
            let operations = (1...7).map { Fixture.operation($0) }
            await batcher.submit(Fixture.chunk(endOffset: 70, operations))
            #expect(await server.waitForAccepted(count: 6, timeout: .seconds(5)))
            #expect(await batcher.drain(timeout: .seconds(5)))
            #expect(server.requestBodies.map(\.count) == [374, 374, 132])
            #expect(server.accepted.map(\.bytes) == operations.map(\.bytes))
            #expect(await log.offsets == [70])
            let stats = await batcher.statistics()
            #expect(stats.operationsSent == 7)
            #expect(stats.requests == 3)
            #expect(stats.queueBytes == 0)
        }
    }

    @Test func bodiesCutAcrossChunksKeepOrderRejectionsAndAcknowledgements() async throws {
        // Four 120-byte operations fill a body: 12 + 480 + 3 = 495 bytes.
        let batch = BatchSettings(
            maxBytes: 495, flushInterval: .seconds(60), maxInFlight: 1, maxRequestsPerSecond: 1000)
        try await withBatcher(batch) { batcher, server, log, directory in
            // The first request's third operation is the first chunk's last; its fourth is the
            // second chunk's first.
            server.script(.errors([2, 3]))
            let operations = (1...9).map { Fixture.operation($0) }
            await batcher.submit(Fixture.chunk(file: 1, endOffset: 30, Array(operations[0..<3])))
            await batcher.submit(Fixture.chunk(file: 1, endOffset: 60, Array(operations[3..<6])))
            await batcher.submit(Fixture.chunk(file: 2, endOffset: 90, Array(operations[6..<9])))
            #expect(await batcher.drain(timeout: .seconds(5)))
            #expect(server.requestBodies.map(\.count) == [495, 495, 132])
            var delivered = operations
            delivered.removeSubrange(2...3)
            #expect(server.accepted.map(\.bytes) == delivered.map(\.bytes))
            let letters = deadLetters(directory)
            #expect(letters.map(\.operation) == [operations[2].bytes, operations[3].bytes])
            #expect(letters.map(\.offset) == [30, 40])
            #expect(await log.offsets == [30, 60, 90])
            #expect(await batcher.statistics().queueBytes == 0)
        }
    }

    /// A tailer step's chunks go in with one call, in order; the acknowledgements that fall due
    /// together come out in one call, one per file at its highest offset.
    @Test func aStepsChunksGoInTogetherAndTheirAcknowledgementsComeOutTogether() async throws {
        let batch = BatchSettings(flushInterval: .milliseconds(20), maxRequestsPerSecond: 1000)
        try await withBatcher(batch, acknowledgingTogether: true) { batcher, server, log, _ in
            let operations = (1...3).map { Fixture.operation($0) }
            await batcher.submit([
                Fixture.chunk(file: 1, endOffset: 10, [operations[0]]),
                Fixture.chunk(file: 2, endOffset: 20, [operations[1]]),
                Fixture.chunk(file: 1, endOffset: 30, [operations[2]]),
                // Nothing to send, and nothing of its file before it: due at once.
                Fixture.chunk(file: 3, endOffset: 40, []),
            ])
            #expect(await batcher.drain(timeout: .seconds(5)))
            #expect(server.accepted.map(\.bytes) == operations.map(\.bytes))
            #expect(server.requestCount == 1)
            // Within a call the order across files does not matter (each file's own is kept).
            let calls = await log.calls.map { Set($0.map { "\($0.0.rawValue)@\($0.1)" }) }
            #expect(calls == [["3@40"], ["1@30", "2@20"]])
        }
    }

    @Test func partialBatchGoesAfterFlushInterval() async throws {
        let batch = BatchSettings(flushInterval: .milliseconds(30), maxRequestsPerSecond: 1000)
        try await withBatcher(batch) { batcher, server, log, _ in
            await batcher.submit(Fixture.chunk(endOffset: 10, [Fixture.operation(1)]))
            #expect(await server.waitForAccepted(count: 1, timeout: .seconds(5)))
            await log.wait(for: 1)
            #expect(await log.offsets == [10])
        }
    }

    /// The chunk that ends a backlog sends what is pending at once, long before the flush
    /// interval; what comes after it waits for the interval again.
    @Test func theEndOfABacklogIsSentWithoutWaitingForTheFlushInterval() async throws {
        let batch = BatchSettings(flushInterval: .seconds(60), maxRequestsPerSecond: 1000)
        try await withBatcher(batch) { batcher, server, log, _ in
            let operations = (1...4).map { Fixture.operation($0) }
            await batcher.submit(Fixture.chunk(endOffset: 20, Array(operations[0..<2])))
            var last = Fixture.chunk(endOffset: 30, [operations[2]])
            last.endsBacklog = true
            await batcher.submit(last)
            #expect(await server.waitForAccepted(count: 3, timeout: .seconds(5)))
            #expect(server.requestCount == 1)
            // One request held both chunks: one acknowledgement, at the later offset.
            await log.wait(for: 1)
            #expect(await log.offsets == [30])
            await batcher.submit(Fixture.chunk(endOffset: 40, [operations[3]]))
            // Bounded look for a request that must not come (the interval is a minute).
            try await Task.sleep(for: .milliseconds(300))
            #expect(server.requestCount == 1)
            #expect(await batcher.drain(timeout: .seconds(5)))
            #expect(server.requestCount == 2)
            #expect(server.accepted.map(\.bytes) == operations.map(\.bytes))
        }
    }

    @Test func acknowledgesInFileOrderWhenRequestsFinishOutOfOrder() async throws {
        let batch = BatchSettings(
            maxBytes: 132, flushInterval: .milliseconds(1), maxInFlight: 3, maxRequestsPerSecond: 1000)
        try await withBatcher(batch) { batcher, server, log, _ in
            // The first request to arrive is held for a second: make it the one for offset 10
            // (three connections may deliver three requests in any order), then send the rest.
            server.script(.delay(.seconds(1), then: .status(200)))
            await batcher.submit(Fixture.chunk(endOffset: 10, [Fixture.operation(1)]))
            let deadline = ContinuousClock.now + .seconds(5)
            while server.requestCount < 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            #expect(server.requestCount == 1)
            await batcher.submit(Fixture.chunk(endOffset: 20, [Fixture.operation(2)]))
            await batcher.submit(Fixture.chunk(endOffset: 30, [Fixture.operation(3)]))
            await log.wait(for: 1)
            #expect(await batcher.drain(timeout: .seconds(5)))
            #expect(await log.offsets == [30])
            #expect(server.requestCount == 3)
        }
    }

    @Test func emptyAndRejectedChunksAreAcknowledgedAndDeadLettered() async throws {
        let batch = BatchSettings(flushInterval: .milliseconds(1), maxRequestsPerSecond: 1000)
        try await withBatcher(batch) { batcher, server, log, directory in
            let rejected = RejectedOperation(
                bytes: [], rule: "purchase", lineOffset: 5, reason: "amount is not a number")
            await batcher.submit(Fixture.chunk(endOffset: 8, [], rejected: [rejected]))
            let huge = Fixture.operation(2, size: 32_001)
            await batcher.submit(Fixture.chunk(endOffset: 30, [huge, Fixture.operation(3)]))
            #expect(await batcher.drain(timeout: .seconds(5)))
            #expect(await log.offsets == [8, 30])
            #expect(server.accepted.map(\.bytes) == [Fixture.operation(3).bytes])
            let letters = deadLetters(directory)
            #expect(
                letters.map(\.reason) == [
                    "amount is not a number",
                    "operation is 32001 bytes; Track accepts at most 32000 bytes per operation",
                ])
            #expect(letters.map(\.offset) == [5, 20])
            #expect(letters[1].operation == huge.bytes)
        }
    }

    @Test func multiStatusDeadLettersExactlyTheListedOperations() async throws {
        let batch = BatchSettings(flushInterval: .milliseconds(1), maxRequestsPerSecond: 1000)
        try await withBatcher(batch) { batcher, server, log, directory in
            server.script(.errors([1, 3]))
            let operations = (1...4).map { Fixture.operation($0) }
            await batcher.submit(Fixture.chunk(endOffset: 40, operations))
            #expect(await batcher.drain(timeout: .seconds(5)))
            #expect(server.accepted.map(\.bytes) == [operations[0].bytes, operations[2].bytes])
            let letters = deadLetters(directory)
            #expect(letters.map(\.operation) == [operations[1].bytes, operations[3].bytes])
            #expect(
                letters.map(\.reason)
                    == Array(repeating: "Track rejected it: scripted: rejected by the test script", count: 2))
            #expect(letters.map(\.rule) == ["purchase", "purchase"])
            #expect(letters.map(\.file) == ["/var/log/app.log", "/var/log/app.log"])
            #expect(await log.offsets == [40])
            #expect(server.requestCount == 1)
        }
    }

    @Test func badRequestIsSplitToIsolateOneBadOperationAmongHundred() async throws {
        let batch = BatchSettings(flushInterval: .milliseconds(1), maxRequestsPerSecond: 10_000)
        try await withBatcher(batch, rejectWhole: true) { batcher, server, log, directory in
            var operations = (0..<100).map { Fixture.operation($0) }
            operations[37] = Fixture.invalidOperation(37)
            await batcher.submit(Fixture.chunk(endOffset: 1000, operations))
            #expect(await batcher.drain(timeout: .seconds(10)))
            var good = operations
            good.remove(at: 37)
            #expect(server.accepted.map(\.bytes) == good.map(\.bytes))
            let letters = deadLetters(directory)
            #expect(letters.count == 1)
            #expect(letters.first?.operation == operations[37].bytes)
            #expect(letters.first?.offset == 370)
            #expect(
                letters.first?.reason
                    == "Track rejected it: Track answered HTTP 400 (bad_request): batch[0].identifiers: identifiers are required"
            )
            #expect(await log.offsets == [1000])
            #expect(await batcher.statistics().deadLetters == 1)
        }
    }

    @Test func rateLimitedRequestWaitsForRetryAfter() async throws {
        let batch = BatchSettings(flushInterval: .milliseconds(1), maxRequestsPerSecond: 1000)
        try await withBatcher(batch) { batcher, server, log, _ in
            server.script(.status(429, retryAfter: "1"))
            let start = ContinuousClock.now
            await batcher.submit(Fixture.chunk(endOffset: 10, [Fixture.operation(1)]))
            #expect(await server.waitForAccepted(count: 1, timeout: .seconds(5)))
            #expect(ContinuousClock.now - start >= .seconds(1))
            await log.wait(for: 1)
            #expect(await batcher.statistics().retries == ["rate_limited": 1])
            #expect(server.responseStatuses == [429, 200])
        }
    }

    @Test func serverErrorThenSuccessResendsTheSameBytes() async throws {
        let batch = BatchSettings(flushInterval: .milliseconds(1), maxRequestsPerSecond: 1000)
        try await withBatcher(batch) { batcher, server, log, _ in
            server.script(.status(500), .commitThen(503), .dropConnection)
            await batcher.submit(Fixture.chunk(endOffset: 20, [Fixture.operation(1), Fixture.operation(2)]))
            await log.wait(for: 1)
            let bodies = server.requestBodies
            #expect(bodies.count == 4)
            #expect(Set(bodies.map { $0 }).count == 1)
            #expect(server.responseStatuses == [500, 503, 0, 200])
            // The commit-then-fail request was recorded too: the repeat carries the same bytes.
            #expect(server.accepted.count == 4)
            let stats = await batcher.statistics()
            #expect(stats.retries == ["server_error": 2, "connection": 1])
            #expect(await log.offsets == [20])
        }
    }

    @Test func wrongCredentialsAreRetriedUntilFixedWithOneLoudLog() async throws {
        let batch = BatchSettings(flushInterval: .milliseconds(1), maxRequestsPerSecond: 1000)
        let logs = CapturedLogs()
        try await withBatcher(batch, logs: logs) { batcher, server, log, _ in
            server.script(.status(401), .status(403), .status(401))
            await batcher.submit(Fixture.chunk(endOffset: 10, [Fixture.operation(1)]))
            await log.wait(for: 1)
            #expect(server.responseStatuses == [401, 403, 401, 200])
            #expect(await batcher.statistics().retries == ["unauthorized": 3])
            #expect(
                logs.messages(at: .error) == [
                    "Track refuses every request; nothing is delivered until the config is fixed"
                ])
            #expect(logs.messages(at: .debug) == Array(repeating: "Track still refuses requests; retrying", count: 2))
            for line in logs.rendered() { #expect(!line.contains(Fixture.apiKey)) }
        }
    }

    @Test func respectsMaxRequestsPerSecond() async throws {
        // One operation per request, 20 requests a second: five requests take at least 200 ms.
        let batch = BatchSettings(
            maxBytes: 132, flushInterval: .milliseconds(1), maxInFlight: 4, maxRequestsPerSecond: 20)
        try await withBatcher(batch) { batcher, server, log, _ in
            let start = ContinuousClock.now
            await batcher.submit(Fixture.chunk(endOffset: 50, (1...5).map { Fixture.operation($0) }))
            await log.wait(for: 1)
            #expect(ContinuousClock.now - start >= .milliseconds(200))
            #expect(server.requestCount == 5)
        }
    }

    @Test func submitSuspendsWhileTheQueueIsFull() async throws {
        let batch = BatchSettings(flushInterval: .milliseconds(1), maxRequestsPerSecond: 1000, queueBytes: 250)
        try await withBatcher(batch) { batcher, server, log, _ in
            server.script(.delay(.milliseconds(400), then: .status(200)))
            await batcher.submit(Fixture.chunk(endOffset: 30, (1...3).map { Fixture.operation($0) }))
            let second = Task {
                await batcher.submit(Fixture.chunk(endOffset: 60, (4...6).map { Fixture.operation($0) }))
            }
            // The first request arrived; its answer is held back, so the queue is still full.
            #expect(await server.waitForAccepted(count: 3, timeout: .seconds(5)))
            #expect(await batcher.statistics().operationsSubmitted == 3)
            #expect(await batcher.statistics().queueBytes == 360)
            await second.value
            #expect(await batcher.statistics().operationsSubmitted == 6)
            #expect(await batcher.drain(timeout: .seconds(5)))
            #expect(await log.offsets == [30, 60])
        }
    }

    @Test func cancelledSubmitStopsWaitingWithoutQueueing() async throws {
        let batch = BatchSettings(flushInterval: .milliseconds(1), maxRequestsPerSecond: 1000, queueBytes: 100)
        try await withBatcher(batch) { batcher, server, log, _ in
            server.script(.delay(.seconds(2), then: .status(200)))
            await batcher.submit(Fixture.chunk(endOffset: 10, [Fixture.operation(1)]))
            let blocked = Task { await batcher.submit(Fixture.chunk(endOffset: 20, [Fixture.operation(2)])) }
            #expect(await server.waitForAccepted(count: 1, timeout: .seconds(5)))
            blocked.cancel()
            await blocked.value
            #expect(await batcher.statistics().operationsSubmitted == 1)
            #expect(await log.offsets.isEmpty)
        }
    }

    @Test func drainFlushesWhatIsQueued() async throws {
        let batch = BatchSettings(flushInterval: .seconds(60), maxRequestsPerSecond: 1000)
        try await withBatcher(batch) { batcher, server, log, _ in
            await batcher.submit(Fixture.chunk(endOffset: 10, [Fixture.operation(1)]))
            await batcher.submit(Fixture.chunk(file: 2, endOffset: 5, [Fixture.operation(2)]))
            #expect(server.requestCount == 0)
            #expect(await batcher.drain(timeout: .seconds(5)))
            #expect(server.accepted.count == 2)
            #expect(await log.entries.map { "\($0.0):\($0.1)" } == ["file#1:10", "file#2:5"])
        }
    }

    @Test func drainGivesUpAfterTheTimeoutAndAcknowledgesNothing() async throws {
        let batch = BatchSettings(flushInterval: .seconds(60), maxRequestsPerSecond: 1000)
        try await withBatcher(batch) { batcher, server, log, _ in
            server.script(.delay(.seconds(2), then: .status(200)))
            await batcher.submit(Fixture.chunk(endOffset: 10, [Fixture.operation(1)]))
            #expect(await batcher.drain(timeout: .milliseconds(100)) == false)
            #expect(await log.offsets.isEmpty)
        }
    }
}
