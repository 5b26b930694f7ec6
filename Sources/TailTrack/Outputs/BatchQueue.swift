/// The ``Batcher``'s queue: submitted operations waiting for a request, taken a request's
/// worth at a time, and the bytes waiting or in flight that backpressure counts.
///
/// It holds runs of a chunk's operations, never one operation on its own, so that an
/// operation's bytes are copied once between the rules and the wire.
struct BatchQueue: Sendable {
    /// A submitted chunk's operations, while any of them waits for or is in a request.
    final class Chunk: Sendable {
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

    /// Consecutive operations of one queued chunk: what the queue and a request hold.
    struct Run: Sendable {
        let chunk: Chunk
        var range: Range<Int>

        /// The operations' own bytes (no commas).
        var operationBytes: Int {
            range.isEmpty ? 0 : chunk.operations.text(of: range).count - (range.count - 1)
        }
    }

    /// The operations of one request, in order.
    struct Request: Sendable {
        var runs: [Run] = []
        var count = 0

        /// The operation at `index` of the request: its run and its index in the run's chunk.
        func locate(_ index: Int) -> (run: Run, operation: Int) {
            var rest = index
            for run in runs {
                if rest < run.range.count { return (run, run.range.lowerBound + rest) }
                rest -= run.range.count
            }
            preconditionFailure("operation \(index) is not in a request of \(count)")
        }

        /// The first `count` operations, and the rest.
        func split(at count: Int) -> (Request, Request) {
            var head = Request()
            var tail = Request()
            var rest = count
            for run in runs {
                if rest >= run.range.count {
                    head.append(run)
                    rest -= run.range.count
                } else if rest > 0 {
                    let cut = run.range.lowerBound + rest
                    head.append(Run(chunk: run.chunk, range: run.range.lowerBound..<cut))
                    tail.append(Run(chunk: run.chunk, range: cut..<run.range.upperBound))
                    rest = 0
                } else {
                    tail.append(run)
                }
            }
            return (head, tail)
        }

        mutating func append(_ run: Run) {
            runs.append(run)
            count += run.range.count
        }

        /// The operations' text, one slice per run (its operations joined by commas): what a
        /// ``BatchAPI`` builds the body from, with one copy per run.
        var texts: [ArraySlice<UInt8>] {
            runs.map { $0.chunk.operations.text(of: $0.range) }
        }
    }

    /// Runs waiting for a request, from `head` on (the head run may be partly taken). A run
    /// taken whole is set to `nil` at once, so that its chunk's buffer is freed as soon as its
    /// request is done, not when the queue is next compacted.
    private var pending: [Run?] = []
    private var head = 0
    /// Operation bytes waiting for a request (not in flight).
    private(set) var pendingBytes = 0
    /// Operations waiting for a request.
    private(set) var pendingCount = 0
    /// Operation bytes waiting or in flight: what backpressure counts.
    private(set) var queuedBytes = 0
    /// A chunk that ended a backlog (``OperationChunk/endsBacklog``) is queued: what is pending
    /// goes now, without waiting for `flush_interval`, until nothing is pending.
    private(set) var flushingBacklog = false

    /// Nothing waits for a request.
    var isEmpty: Bool { head == pending.count }

    /// When the oldest waiting operation was queued.
    var oldestEnqueuedAt: ContinuousClock.Instant? {
        head < pending.count ? pending[head]?.chunk.enqueuedAt : nil
    }

    /// Queues all operations of `chunk`.
    mutating func append(_ chunk: Chunk) {
        let run = Run(chunk: chunk, range: 0..<chunk.operations.count)
        pending.append(run)
        pendingBytes += run.operationBytes
        pendingCount += chunk.operations.count
        queuedBytes += run.operationBytes
    }

    /// A backlog was read to its end: what is pending goes at once.
    mutating func flushBacklog() {
        if !isEmpty { flushingBacklog = true }
    }

    /// The next request: whole runs while they fit in a body of `maxBytes`, the run where the
    /// body fills up cut in two. Takes at least one operation when any is waiting.
    mutating func take(maxBytes: Int, limits: BatchRequestLimits) -> Request {
        var request = Request()
        var operationBytes = 0
        while head < pending.count, let run = pending[head] {
            let operations = run.chunk.operations
            var end = run.range.lowerBound
            var runBytes = 0
            while end < run.range.upperBound {
                let next = operations.size(of: end)
                let count = request.count + (end - run.range.lowerBound) + 1
                let size = limits.bodySize(operationBytes: operationBytes + runBytes + next, count: count)
                if count > 1, size > maxBytes { break }
                runBytes += next
                end += 1
            }
            if end > run.range.lowerBound {
                request.append(Run(chunk: run.chunk, range: run.range.lowerBound..<end))
                operationBytes += runBytes
            }
            if end < run.range.upperBound {
                pending[head] = Run(chunk: run.chunk, range: end..<run.range.upperBound)
                break
            }
            pending[head] = nil
            head += 1
        }
        pendingBytes -= operationBytes
        pendingCount -= request.count
        if head == pending.count {
            pending.removeAll(keepingCapacity: true)
            head = 0
            flushingBacklog = false
        } else if head > 1024, head * 2 > pending.count {
            pending.removeFirst(head)
            head = 0
        }
        return request
    }

    /// The operations of `run` were delivered or dead-lettered: their bytes no longer count.
    mutating func release(_ run: Run) {
        queuedBytes -= run.operationBytes
    }
}
