import NIOCore

/// What the ``Batcher`` queues and sends: runs of a chunk's operations, never one operation
/// on its own, so that an operation's bytes are copied once between the rules and the wire.
extension Batcher {
    /// A submitted chunk's operations, while any of them waits for or is in a request.
    final class QueuedChunk: Sendable {
        let operations: PackedOperations
        let ticket: AcknowledgementTracker.Ticket
        let source: String
        let path: String
        let enqueuedAt: ContinuousClock.Instant

        init(
            operations: PackedOperations, ticket: AcknowledgementTracker.Ticket, source: String, path: String,
            enqueuedAt: ContinuousClock.Instant
        ) {
            self.operations = operations
            self.ticket = ticket
            self.source = source
            self.path = path
            self.enqueuedAt = enqueuedAt
        }
    }

    /// Consecutive operations of one queued chunk: what the queue and a request hold, so an
    /// operation is never copied on its own between the rules and the request body.
    struct QueuedRun: Sendable {
        let chunk: QueuedChunk
        var range: Range<Int>

        /// The operations' own bytes (no commas).
        var operationBytes: Int {
            range.isEmpty ? 0 : chunk.operations.text(of: range).count - (range.count - 1)
        }
    }

    /// The operations of one request, in order.
    struct Batch: Sendable {
        var runs: [QueuedRun] = []
        var count = 0

        /// The operation at `index` of the request: its run and its index in the run's chunk.
        func locate(_ index: Int) -> (run: QueuedRun, operation: Int) {
            var rest = index
            for run in runs {
                if rest < run.range.count { return (run, run.range.lowerBound + rest) }
                rest -= run.range.count
            }
            preconditionFailure("operation \(index) is not in a batch of \(count)")
        }

        /// The first `count` operations, and the rest.
        func split(at count: Int) -> (Batch, Batch) {
            var head = Batch()
            var tail = Batch()
            var rest = count
            for run in runs {
                if rest >= run.range.count {
                    head.append(run)
                    rest -= run.range.count
                } else if rest > 0 {
                    let cut = run.range.lowerBound + rest
                    head.append(QueuedRun(chunk: run.chunk, range: run.range.lowerBound..<cut))
                    tail.append(QueuedRun(chunk: run.chunk, range: cut..<run.range.upperBound))
                    rest = 0
                } else {
                    tail.append(run)
                }
            }
            return (head, tail)
        }

        mutating func append(_ run: QueuedRun) {
            runs.append(run)
            count += run.range.count
        }

        /// The request body, with one copy per run.
        func body() -> ByteBuffer {
            TrackBatchBody.buffer(joining: runs.lazy.map { $0.chunk.operations.text(of: $0.range) })
        }
    }
}
