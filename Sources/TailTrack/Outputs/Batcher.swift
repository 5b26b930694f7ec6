import Logging
import NIOCore

/// Packs operations into batch requests for a ``BatchAPI`` (Track's today) and delivers them,
/// acknowledging file positions only once everything before them is accepted or
/// dead-lettered. It orchestrates; the parts are values of their own: the queue
/// (``BatchQueue``), the shared backoff (``SharedBackoff``), the rate limit
/// (``RequestRateLimiter``), dead letters (``DeadLetterRecorder``) and acknowledgements
/// (``AcknowledgementTracker``).
///
/// - Bounded: ``submit(_:)`` suspends while more than `batch.queue_bytes` are waiting or in
///   flight, which stops the tailer reading.
/// - A body holds at most `batch.max_bytes` (all of it: the envelope, Track's `{"batch":[` and
///   `]}`, and commas), and never more than the API takes; a partial one goes after `batch.flush_interval`, or at once when
///   the tailer has caught up after a backlog (``OperationChunk/endsBacklog``). At most
///   `batch.max_in_flight` requests at once and `batch.max_requests_per_second`.
/// - An operation over the API's limit (Track's 32,000 bytes) is dead-lettered and never sent.
///   Operations the API rejects by index are dead-lettered; a batch rejected as a whole (Track's
///   400 or 413) is split in halves until the bad operations are isolated. Everything else is
///   retried per ``RetryPolicy``, forever.
/// - Retries share one pause (``SharedBackoff``): a down endpoint sees about one request per
///   backoff interval, however many requests were in flight.
public actor Batcher: OperationSink {
    // What it is given.
    private let settings: BatchSettings
    private let client: any BatchAPI
    private let limits: BatchRequestLimits
    /// The largest body: `batch.max_bytes`, within the API's request limit.
    private let maxBodyBytes: Int
    private let retryPolicy: RetryPolicy
    private let clock: DeliveryClock
    private var log: DeliveryLog

    // The queue and backpressure.
    private var queue = BatchQueue()
    /// Submitters waiting for room under `queue_bytes`.
    private let roomWaiters = WaiterQueue()

    // The service loop.
    private var inFlight = 0
    private var flushTimerArmed = false
    private let loopWaiter = WaiterQueue()
    /// The loop was signalled while it was not waiting: it looks again before it waits.
    private var loopSignalled = false

    // Sending.
    private var backoff: SharedBackoff
    /// Requests waiting for the probe's answer.
    private let probeWaiters = WaiterQueue()
    private var rateLimiter: RequestRateLimiter

    // Dead letters and acknowledgements.
    private let deadLetters: DeadLetterRecorder
    private var tracker = AcknowledgementTracker()
    private let acknowledge: @Sendable ([AcknowledgementTracker.Acknowledgement]) async -> Void
    /// Acknowledgements due, not yet handed over, in the order they completed.
    private var acknowledgementQueue: [AcknowledgementTracker.Acknowledgement] = []
    private var acknowledging = false

    // Draining and counters.
    private var draining = false
    private let idleWaiters = WaiterQueue()
    private var stats = DeliveryStats()

    /// - Parameters:
    ///   - acknowledgeAll: called with the acknowledgements that are due, at most one per file
    ///     (its highest offset), in order per file: one call, not one per file.
    public init(
        batch: BatchSettings,
        retry: RetryPolicy,
        deadLetters: DeadLetterWriter,
        client: any BatchAPI,
        clock: DeliveryClock = .continuous,
        logger: Logger,
        acknowledgeAll: @escaping @Sendable ([AcknowledgementTracker.Acknowledgement]) async -> Void
    ) {
        self.settings = batch
        self.client = client
        self.limits = client.limits
        self.maxBodyBytes = min(batch.maxBytes, client.limits.requestBytes)
        self.retryPolicy = retry
        self.clock = clock
        self.log = DeliveryLog(logger: logger, apiName: client.name)
        self.backoff = SharedBackoff(policy: retry)
        self.rateLimiter = RequestRateLimiter(requestsPerSecond: batch.maxRequestsPerSecond)
        self.deadLetters = DeadLetterRecorder(writer: deadLetters, retryPolicy: retry, clock: clock, logger: logger)
        self.acknowledge = acknowledgeAll
    }

    /// The counters so far.
    public func statistics() -> DeliveryStats {
        var snapshot = stats
        snapshot.queueBytes = queue.queuedBytes
        return snapshot
    }

    // MARK: Submitting

    /// Queues `chunk`. Suspends while `queue_bytes` are waiting or in flight; a caller cancelled
    /// while suspended returns without queueing (its lines stay unacknowledged).
    public func submit(_ chunk: OperationChunk) async {
        guard let acknowledgements = await enqueue(chunk) else { return }
        signalLoop()
        await deliverAcknowledgements(acknowledgements)
    }

    /// Queues `chunks` in order, as ``submit(_:)-(OperationChunk)`` would one by one, but with one
    /// call into the actor and one hand-over of the acknowledgements that became due (a step
    /// of the tailer over many quiet files gives many one-line chunks).
    public func submit(_ chunks: [OperationChunk]) async {
        var acknowledgements: [AcknowledgementTracker.Acknowledgement] = []
        for chunk in chunks {
            guard let due = await enqueue(chunk) else { break }
            acknowledgements += due
            // Let the loop start on what is queued while a later chunk waits for room.
            if queue.queuedBytes >= settings.queueBytes { signalLoop() }
        }
        signalLoop()
        await deliverAcknowledgements(acknowledgements)
    }

    /// Queues one chunk and returns the acknowledgements it made due (a chunk with nothing to
    /// send is done at once); `nil` when cancelled while waiting for room.
    private func enqueue(_ chunk: OperationChunk) async -> [AcknowledgementTracker.Acknowledgement]? {
        while queue.queuedBytes > 0, queue.queuedBytes >= settings.queueBytes {
            if Task.isCancelled { return nil }
            await roomWaiters.wait()
        }
        let (operations, letters) = DeadLetterRecorder.screen(
            chunk, limits: limits, maxBytes: settings.maxBytes, apiName: client.name)
        // A chunk whose dead letters could not be written must never be acknowledged: one
        // extra outstanding count holds it (and every later chunk of the file) back.
        let held = await writeDeadLetters(letters) ? 0 : 1
        let (ticket, acknowledgements) = tracker.register(
            file: chunk.file,
            endOffset: chunk.endOffset,
            operations: operations.count + held
        )
        if !operations.isEmpty {
            queue.append(
                BatchQueue.Chunk(
                    operations: operations, ticket: ticket, source: chunk.source, path: chunk.path,
                    enqueuedAt: clock.now()))
        }
        if chunk.endsBacklog { queue.flushBacklog() }
        stats.operationsSubmitted += operations.count
        return acknowledgements
    }

    // MARK: The service loop

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                if let request = takeRequest() {
                    inFlight += 1
                    group.addTask { await self.deliver(request) }
                    continue
                }
                // With every request slot taken, the end of a delivery wakes the loop instead.
                if let oldest = queue.oldestEnqueuedAt, !flushTimerArmed, !draining,
                    inFlight < max(1, settings.maxInFlight)
                {
                    flushTimerArmed = true
                    let wait = (oldest + settings.flushInterval) - clock.now()
                    let clock = self.clock
                    group.addTask {
                        try? await clock.sleep(max(wait, .zero))
                        await self.flushTimerFired()
                    }
                }
                await waitForSignal()
            }
        }
        idleWaiters.resumeAll()
    }

    /// The next request's operations, when one should go now: a full body's worth is waiting,
    /// the oldest waiting operation is `flush_interval` old, or a drain is on.
    private func takeRequest() -> BatchQueue.Request? {
        guard inFlight < max(1, settings.maxInFlight), let oldest = queue.oldestEnqueuedAt else { return nil }
        let full = limits.bodySize(operationBytes: queue.pendingBytes, count: queue.pendingCount) >= maxBodyBytes
        let due = clock.now() >= oldest + settings.flushInterval
        guard full || due || draining || queue.flushingBacklog else { return nil }
        return queue.take(maxBytes: maxBodyBytes, limits: limits)
    }

    private func flushTimerFired() {
        flushTimerArmed = false
        signalLoop()
    }

    private func signalLoop() {
        if loopWaiter.isEmpty {
            loopSignalled = true
        } else {
            loopWaiter.resumeAll()
        }
    }

    private func waitForSignal() async {
        if !loopSignalled { await loopWaiter.wait() }
        loopSignalled = false
    }

    // MARK: Delivering

    private func deliver(_ request: BatchQueue.Request) async {
        await send(request)
        inFlight -= 1
        signalLoop()
        resumeIdleWaitersIfIdle()
    }

    /// Sends `request` until each operation is accepted or dead-lettered; returns early only
    /// when cancelled (those operations then stay unacknowledged).
    private func send(_ request: BatchQueue.Request) async {
        let body = client.body(joining: request.texts)
        while !Task.isCancelled {
            let isProbe: Bool
            do { isProbe = try await waitForTurn() } catch { return }
            stats.requests += 1
            let outcome = await client.deliver(body: body)
            if case .retryable(let error, let retryAfter) = outcome {
                let change = backoff.record(.failed(retryAfter: retryAfter), probe: isProbe, now: clock.now())
                if case .paused(let delay, let failures) = change {
                    log.paused(after: error, delay: delay, failures: failures, bodyBytes: body.readableBytes)
                }
            } else if case .recovered(let failures) = backoff.record(.answered, probe: isProbe, now: clock.now()) {
                log.recovered(failures: failures)
            }
            if isProbe { probeWaiters.resumeAll() }
            switch outcome {
            case .accepted:
                log.answered()
                await finish(request, rejected: [:])
                return
            case .partiallyRejected(let rejections):
                log.answered()
                var rejected: [Int: String] = [:]
                for rejection in rejections where (0..<request.count).contains(rejection.index) {
                    rejected[rejection.index] = rejection.reason
                }
                await finish(request, rejected: rejected)
                return
            case .rejected(let error):
                log.answered()
                if request.count == 1 {
                    await finish(request, rejected: [0: "\(client.name) rejected it: \(error.description)"])
                    return
                }
                stats.splits += 1
                let (first, second) = request.split(at: request.count / 2)
                await send(first)
                await send(second)
                return
            case .refused(let error):
                stats.retries[error.code.rawValue, default: 0] += 1
                log.refused(error, retryDelay: retryPolicy.authDelay)
                do { try await clock.sleep(retryPolicy.authDelay) } catch { return }
            case .retryable(let error, _):
                stats.retries[error.code.rawValue, default: 0] += 1
            }
        }
    }

    /// Waits until this request may go: after the shared pause, not while another request
    /// probes, and within `max_requests_per_second`. Returns `true` when this request is the
    /// probe, whose answer must be recorded with `probe: true`.
    private func waitForTurn() async throws -> Bool {
        var isProbe = false
        turns: while true {
            try Task.checkCancellation()
            switch backoff.turn(now: clock.now()) {
            case .sleep(let until):
                try await clock.sleep(until - clock.now())
            case .awaitProbe:
                await probeWaiters.wait()
            case .send(let probe):
                isProbe = probe
                break turns
            }
        }
        do {
            let wait = rateLimiter.reserve(now: clock.now())
            if wait > .zero { try await clock.sleep(wait) }
        } catch {
            if isProbe {
                backoff.probeAbandoned()
                probeWaiters.resumeAll()
            }
            throw error
        }
        return isProbe
    }

    // MARK: Finishing

    /// Dead-letters the operations at the indices of `rejected` (with those reasons), counts
    /// the rest as accepted, and acknowledges what became complete.
    private func finish(_ request: BatchQueue.Request, rejected: [Int: String]) async {
        let letters = rejected.keys.sorted().map { index in
            let (run, operation) = request.locate(index)
            return DeadLetter(
                operation: operation, of: run.chunk.operations, source: run.chunk.source, path: run.chunk.path,
                reason: rejected[index] ?? "rejected by \(client.name)")
        }
        guard await writeDeadLetters(letters) else { return }
        stats.operationsSent += request.count - letters.count
        var acknowledgements: [AcknowledgementTracker.Acknowledgement] = []
        var index = 0
        let runs = request.runs
        while index < runs.count {
            // Runs of one chunk (a request split in halves) complete its ticket together.
            let ticket = runs[index].chunk.ticket
            var count = 0
            while index < runs.count, runs[index].chunk.ticket == ticket {
                queue.release(runs[index])
                count += runs[index].range.count
                index += 1
            }
            acknowledgements += tracker.complete(ticket, count: count)
        }
        if queue.queuedBytes < settings.queueBytes { roomWaiters.resumeAll() }
        await deliverAcknowledgements(acknowledgements)
    }

    /// Writes dead letters (retrying while the disk refuses) and counts them; `false` only when
    /// cancelled first.
    private func writeDeadLetters(_ letters: [DeadLetter]) async -> Bool {
        guard await deadLetters.write(letters) else { return false }
        stats.deadLetters += letters.count
        return true
    }

    /// Hands positions to the tailer one at a time, in the order they completed, even when
    /// several deliveries finish while an acknowledgement is under way.
    private func deliverAcknowledgements(_ acknowledgements: [AcknowledgementTracker.Acknowledgement]) async {
        acknowledgementQueue += acknowledgements
        guard !acknowledging else { return }
        acknowledging = true
        while !acknowledgementQueue.isEmpty {
            let batch = acknowledgementQueue
            acknowledgementQueue = []
            // Positions only grow: the last one of each file says it all.
            var latest: [FileKey: Int] = [:]
            for (index, acknowledgement) in batch.enumerated() { latest[acknowledgement.file] = index }
            let due = batch.indices.filter { latest[batch[$0].file] == $0 }.map { batch[$0] }
            await acknowledge(due)
            stats.acknowledgements += due.count
        }
        acknowledging = false
        resumeIdleWaitersIfIdle()
    }

    // MARK: Draining

    private var isIdle: Bool {
        queue.isEmpty && inFlight == 0 && acknowledgementQueue.isEmpty && !acknowledging
    }

    public func drain(timeout: Duration) async -> Bool {
        draining = true
        signalLoop()
        let clock = self.clock
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.waitUntilIdle() }
            group.addTask {
                try? await clock.sleep(timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// `true` once nothing is waiting or in flight; `false` when cancelled first.
    private func waitUntilIdle() async -> Bool {
        while !isIdle {
            if Task.isCancelled { return false }
            await idleWaiters.wait()
        }
        return true
    }

    private func resumeIdleWaitersIfIdle() {
        if isIdle { idleWaiters.resumeAll() }
    }
}
