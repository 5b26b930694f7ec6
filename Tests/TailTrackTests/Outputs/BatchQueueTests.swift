import Testing

@testable import TailTrack

/// The batcher's queue on its own: requests are cut to the body limit across chunks, and the
/// bytes waiting or in flight are counted until released.
@Suite struct BatchQueueTests {
    let start = ContinuousClock.now

    func chunk(_ numbers: Range<Int>, file: UInt64 = 1) -> BatchQueue.Chunk {
        var tracker = AcknowledgementTracker()
        let ticket = tracker.register(file: FileKey(rawValue: file), endOffset: 0, operations: numbers.count).ticket
        return BatchQueue.Chunk(
            operations: PackedOperations(numbers.map { DeliveryFixture.operation($0) }), ticket: ticket,
            source: "app", path: "/var/log/app.log", enqueuedAt: start)
    }

    @Test func requestsAreCutToTheBodyLimitAcrossChunks() {
        var queue = BatchQueue()
        queue.append(chunk(0..<3))
        queue.append(chunk(3..<6))
        #expect(queue.pendingCount == 6)
        #expect(queue.pendingBytes == 720)
        #expect(queue.oldestEnqueuedAt == start)
        // Four 120-byte operations fill a Track body of 12 + 480 + 3 = 495 bytes.
        let first = queue.take(maxBytes: 495, limits: .track)
        #expect(first.count == 4)
        #expect(first.runs.map(\.range) == [0..<3, 0..<1])
        #expect(first.texts.map(\.count) == [362, 120])
        let second = queue.take(maxBytes: 495, limits: .track)
        #expect(second.runs.map(\.range) == [1..<3])
        #expect(queue.isEmpty)
        #expect(queue.oldestEnqueuedAt == nil)
        // Taken is not released: the bytes count until their request is done.
        #expect(queue.queuedBytes == 720)
        for run in first.runs + second.runs { queue.release(run) }
        #expect(queue.queuedBytes == 0)
    }

    @Test func anOperationLargerThanTheLimitStillGoesAlone() {
        var queue = BatchQueue()
        queue.append(chunk(0..<2))
        #expect(queue.take(maxBytes: 100, limits: .track).count == 1)
        #expect(queue.take(maxBytes: 100, limits: .track).count == 1)
    }

    @Test func aBacklogFlushLastsUntilTheQueueIsEmpty() {
        var queue = BatchQueue()
        queue.flushBacklog()
        #expect(!queue.flushingBacklog)
        queue.append(chunk(0..<2))
        queue.flushBacklog()
        #expect(queue.flushingBacklog)
        _ = queue.take(maxBytes: 500_000, limits: .track)
        #expect(!queue.flushingBacklog)
    }

    @Test func aRequestSplitsAndLocatesItsOperations() {
        var queue = BatchQueue()
        queue.append(chunk(0..<3))
        queue.append(chunk(3..<5, file: 2))
        let request = queue.take(maxBytes: 500_000, limits: .track)
        let (head, tail) = request.split(at: 2)
        #expect(head.runs.map(\.range) == [0..<2])
        #expect(tail.runs.map(\.range) == [2..<3, 0..<2])
        let (run, operation) = request.locate(3)
        #expect(operation == 0)
        #expect(run.chunk.operations.lineOffsets[operation] == 30)
    }
}
