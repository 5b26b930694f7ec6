import Foundation
import Logging
import NIOCore

/// Packs operations into Track batch requests and delivers them, acknowledging file
/// positions only once everything before them is accepted or dead-lettered.
///
/// - Bounded: ``submit(_:)`` suspends while more than `batch.queue_bytes` are waiting or in
///   flight, which stops the tailer reading.
/// - A body holds at most `batch.max_bytes` (all of it: `{"batch":[`, commas, `]}`); a partial
///   one goes after `batch.flush_interval`, or at once when the tailer has caught up after a
///   backlog (``OperationChunk/endsBacklog``). At most `batch.max_in_flight` requests at once and
///   `batch.max_requests_per_second`.
/// - An operation over Track's 32,000 bytes is dead-lettered and never sent. A 207 dead-letters
///   exactly the listed operations; a 400 or 413 splits the batch in halves until the bad
///   operations are isolated. Everything else is retried per ``RetryPolicy``, forever.
/// - Retries share one pause: when a request fails with 429, 5xx or a lost connection, every
///   request waits for the same backoff, then one request alone probes Track; the others go
///   once it gets through. A down endpoint sees about one request per backoff interval,
///   however many requests were in flight.
public actor Batcher: OperationSink {
    private let settings: BatchSettings
    private let retryPolicy: RetryPolicy
    private let client: any TrackSending
    private let deadLetters: DeadLetterWriter
    private let acknowledge: @Sendable ([AcknowledgementTracker.Acknowledgement]) async -> Void
    private let clock: DeliveryClock
    private let logger: Logger

    private var tracker = AcknowledgementTracker()
    /// Runs waiting for a request, from ``pendingHead`` on (the head run may be partly taken).
    /// A run taken whole is set to `nil` at once, so that its chunk's buffer is freed as soon
    /// as its request is done, not when the queue is next compacted.
    private var pending: [QueuedRun?] = []
    private var pendingHead = 0
    /// Operation bytes waiting for a request (not in flight).
    private var pendingBytes = 0
    /// Operations waiting for a request.
    private var pendingCount = 0
    /// Operation bytes waiting or in flight: what backpressure counts.
    private var queuedBytes = 0
    private var inFlight = 0
    private var draining = false
    /// A chunk that ended a backlog (``OperationChunk/endsBacklog``) is queued: what is
    /// pending goes now, without waiting for `flush_interval`, until nothing is pending.
    private var flushingBacklog = false
    private var stats = DeliveryStats()
    private var nextSendAt: ContinuousClock.Instant?
    private var credentialFailureLogged = false
    private var flushTimerArmed = false
    /// Retryable failures in a row, across requests: the shared backoff's attempt number.
    private var failureStreak = 0
    /// No request goes before this instant (the shared backoff after a retryable failure).
    private var pausedUntil: ContinuousClock.Instant?
    /// A request is out probing whether Track is back; the others wait for its answer.
    private var probing = false
    private var probeWaiters: [CheckedContinuation<Void, Never>] = []

    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private var loopWaiter: CheckedContinuation<Void, Never>?
    private var loopSignalled = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var acknowledgementQueue: [AcknowledgementTracker.Acknowledgement] = []
    private var acknowledging = false

    /// - Parameters:
    ///   - acknowledge: called with a file and the offset up to which everything is delivered,
    ///     in order per file (the tailer's `acknowledge`).
    public init(
        batch: BatchSettings,
        retry: RetryPolicy,
        deadLetters: DeadLetterWriter,
        client: any TrackSending,
        clock: DeliveryClock = .continuous,
        logger: Logger,
        acknowledge: @escaping @Sendable (FileKey, UInt64) async -> Void
    ) {
        self.init(
            batch: batch, retry: retry, deadLetters: deadLetters, client: client, clock: clock, logger: logger,
            acknowledgeAll: { acknowledgements in
                for acknowledgement in acknowledgements {
                    await acknowledge(acknowledgement.file, acknowledgement.endOffset)
                }
            })
    }

    /// - Parameters:
    ///   - acknowledgeAll: called with the acknowledgements that are due, at most one per file
    ///     (its highest offset), in order per file: one call, not one per file.
    public init(
        batch: BatchSettings,
        retry: RetryPolicy,
        deadLetters: DeadLetterWriter,
        client: any TrackSending,
        clock: DeliveryClock = .continuous,
        logger: Logger,
        acknowledgeAll: @escaping @Sendable ([AcknowledgementTracker.Acknowledgement]) async -> Void
    ) {
        self.settings = batch
        self.retryPolicy = retry
        self.deadLetters = deadLetters
        self.client = client
        self.clock = clock
        self.logger = logger
        self.acknowledge = acknowledgeAll
    }

    /// A batcher for `config` sending through `client`.
    public init(
        config: TailTrackConfig,
        client: any TrackSending,
        logger: Logger,
        acknowledgeAll: @escaping @Sendable ([AcknowledgementTracker.Acknowledgement]) async -> Void
    ) {
        self.init(
            batch: config.batch,
            retry: RetryPolicy(settings: config.retry),
            deadLetters: DeadLetterWriter(stateDirectory: config.stateDirectory, settings: config.deadLetter),
            client: client,
            logger: logger,
            acknowledgeAll: acknowledgeAll
        )
    }

    /// The counters so far.
    public func statistics() -> DeliveryStats {
        var snapshot = stats
        snapshot.queueBytes = queuedBytes
        return snapshot
    }

    /// Largest operation sent: Track's per-operation limit.
    var operationLimit: Int { BatchSettings.trackOperationLimit }

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
            if queuedBytes >= settings.queueBytes { signalLoop() }
        }
        signalLoop()
        await deliverAcknowledgements(acknowledgements)
    }

    /// Queues one chunk and returns the acknowledgements it made due (a chunk with nothing to
    /// send is done at once); `nil` when cancelled while waiting for room.
    private func enqueue(_ chunk: OperationChunk) async -> [AcknowledgementTracker.Acknowledgement]? {
        while queuedBytes > 0, queuedBytes >= settings.queueBytes {
            if Task.isCancelled { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { spaceWaiters.append($0) }
            } onCancel: {
                Task { await self.resumeSpaceWaiters() }
            }
        }
        var letters = chunk.rejected.map { rejected in
            DeadLetter(
                time: Date(),
                rule: rejected.rule,
                source: chunk.source,
                file: chunk.path,
                offset: rejected.lineOffset,
                reason: rejected.reason,
                operation: rejected.bytes
            )
        }
        var operations = chunk.packed
        var tooLarge: [Int: String] = [:]
        for index in 0..<operations.count {
            if let reason = tooLargeReason(operations.size(of: index)) { tooLarge[index] = reason }
        }
        if !tooLarge.isEmpty {
            for index in tooLarge.keys.sorted() {
                letters.append(
                    DeadLetter(
                        time: Date(),
                        rule: operations.rules[index],
                        source: chunk.source,
                        file: chunk.path,
                        offset: operations.lineOffsets[index],
                        reason: tooLarge[index] ?? "",
                        operation: operations.object(at: index)
                    )
                )
            }
            operations = operations.filter { tooLarge[$0] == nil }
        }
        // A chunk whose dead letters could not be written must never be acknowledged: one
        // extra outstanding count holds it (and every later chunk of the file) back.
        let held = await writeDeadLetters(letters) ? 0 : 1
        let (ticket, acknowledgements) = tracker.register(
            file: chunk.file,
            endOffset: chunk.endOffset,
            operations: operations.count + held
        )
        if !operations.isEmpty {
            let queued = QueuedChunk(
                operations: operations, ticket: ticket, source: chunk.source, path: chunk.path,
                enqueuedAt: clock.now())
            let run = QueuedRun(chunk: queued, range: 0..<operations.count)
            pending.append(run)
            pendingBytes += run.operationBytes
            pendingCount += operations.count
            queuedBytes += run.operationBytes
        }
        if chunk.endsBacklog && pendingHead < pending.count { flushingBacklog = true }
        stats.operationsSubmitted += operations.count
        return acknowledgements
    }

    /// Wakes suspended submitters; each checks the queue again.
    private func resumeSpaceWaiters() {
        let waiters = spaceWaiters
        spaceWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    private func tooLargeReason(_ size: Int) -> String? {
        if size > operationLimit {
            return "operation is \(size) bytes; Track accepts at most \(operationLimit) bytes per operation"
        }
        if TrackBatchBody.size(operationBytes: size, count: 1) > settings.maxBytes {
            return "operation is \(size) bytes; it does not fit in a request of batch.max_bytes \(settings.maxBytes)"
        }
        return nil
    }

    // MARK: The service loop

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                if let batch = takeBatch() {
                    inFlight += 1
                    group.addTask { await self.deliver(batch) }
                    continue
                }
                // With every request slot taken, the end of a delivery wakes the loop instead.
                if pendingHead < pending.count, let head = pending[pendingHead], !flushTimerArmed, !draining,
                    inFlight < max(1, settings.maxInFlight)
                {
                    flushTimerArmed = true
                    let wait = (head.chunk.enqueuedAt + settings.flushInterval) - clock.now()
                    let clock = self.clock
                    group.addTask {
                        try? await clock.sleep(max(wait, .zero))
                        await self.flushTimerFired()
                    }
                }
                await waitForSignal()
            }
        }
        resumeIdleWaiters()
    }

    /// The next request's operations, when one should go now: a full body's worth is waiting,
    /// the oldest waiting operation is `flush_interval` old, or a drain is on.
    private func takeBatch() -> Batch? {
        guard inFlight < max(1, settings.maxInFlight), pendingHead < pending.count, let head = pending[pendingHead]
        else { return nil }
        let full = TrackBatchBody.size(operationBytes: pendingBytes, count: pendingCount) >= settings.maxBytes
        let due = clock.now() >= head.chunk.enqueuedAt + settings.flushInterval
        guard full || due || draining || flushingBacklog else { return nil }
        // Whole runs while they fit; the run where the body fills up is cut in two.
        var batch = Batch()
        var operationBytes = 0
        while pendingHead < pending.count, let run = pending[pendingHead] {
            let operations = run.chunk.operations
            var end = run.range.lowerBound
            var runBytes = 0
            while end < run.range.upperBound {
                let next = operations.size(of: end)
                let count = batch.count + (end - run.range.lowerBound) + 1
                let size = TrackBatchBody.size(operationBytes: operationBytes + runBytes + next, count: count)
                if count > 1, size > settings.maxBytes { break }
                runBytes += next
                end += 1
            }
            if end > run.range.lowerBound {
                batch.append(QueuedRun(chunk: run.chunk, range: run.range.lowerBound..<end))
                operationBytes += runBytes
            }
            if end < run.range.upperBound {
                pending[pendingHead] = QueuedRun(chunk: run.chunk, range: end..<run.range.upperBound)
                break
            }
            pending[pendingHead] = nil
            pendingHead += 1
        }
        pendingBytes -= operationBytes
        pendingCount -= batch.count
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
            flushingBacklog = false
        } else if pendingHead > 1024, pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
        return batch
    }

    private func flushTimerFired() {
        flushTimerArmed = false
        signalLoop()
    }

    private func signalLoop() {
        if let waiter = loopWaiter {
            loopWaiter = nil
            waiter.resume()
        } else {
            loopSignalled = true
        }
    }

    private func waitForSignal() async {
        if loopSignalled {
            loopSignalled = false
            return
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { loopWaiter = $0 }
        } onCancel: {
            Task { await self.signalLoop() }
        }
        loopSignalled = false
    }

    // MARK: Delivering

    private func deliver(_ batch: Batch) async {
        await send(batch)
        inFlight -= 1
        signalLoop()
        resumeIdleWaitersIfIdle()
    }

    /// Sends `operations` until each is accepted or dead-lettered; returns early only when
    /// cancelled (those operations then stay unacknowledged).
    private func send(_ operations: Batch) async {
        let body = operations.body()
        while !Task.isCancelled {
            let isProbe: Bool
            do { isProbe = try await waitForTurn() } catch { return }
            stats.requests += 1
            let outcome = await client.send(body: body)
            if case .retryable(let error, let retryAfter) = outcome {
                pause(after: error, retryAfter: retryAfter, bodyBytes: body.readableBytes, probe: isProbe)
            } else {
                trackAnswered()
            }
            if isProbe { finishProbe() }
            switch outcome {
            case .accepted:
                credentialFailureLogged = false
                await finish(operations, rejected: [:])
                return
            case .partiallyRejected(_, let errors):
                credentialFailureLogged = false
                var rejected: [Int: String] = [:]
                for error in errors where (0..<operations.count).contains(error.batchIndex) {
                    rejected[error.batchIndex] = error.deadLetterReason
                }
                await finish(operations, rejected: rejected)
                return
            case .badRequest(let error), .tooLarge(let error):
                credentialFailureLogged = false
                if operations.count == 1 {
                    await finish(operations, rejected: [0: "Track rejected it: \(error.description)"])
                    return
                }
                stats.splits += 1
                let (first, second) = operations.split(at: operations.count / 2)
                await send(first)
                await send(second)
                return
            case .unauthorized(let error), .misconfigured(let error):
                stats.retries[error.code.rawValue, default: 0] += 1
                let metadata: Logger.Metadata = [
                    DeliveryLogKey.status: "\(error.status.map(String.init) ?? "-")",
                    DeliveryLogKey.errorCode: "\(error.code.rawValue)",
                    DeliveryLogKey.error: "\(error)",
                    DeliveryLogKey.retryDelay: "\(retryPolicy.authDelay)",
                ]
                if credentialFailureLogged {
                    logger.debug("Track still refuses requests; retrying", metadata: metadata)
                } else {
                    credentialFailureLogged = true
                    logger.error(
                        "Track refuses every request; nothing is delivered until the config is fixed",
                        metadata: metadata
                    )
                }
                do { try await clock.sleep(retryPolicy.authDelay) } catch { return }
            case .retryable(let error, _):
                stats.retries[error.code.rawValue, default: 0] += 1
            }
        }
    }

    // MARK: The shared backoff

    /// Waits until this request may go: after the shared pause, not while another request
    /// probes Track, and within `max_requests_per_second`. Returns `true` when this request is
    /// the probe (the first after a failure), which must end with ``finishProbe()``.
    private func waitForTurn() async throws -> Bool {
        while true {
            try Task.checkCancellation()
            if let until = pausedUntil, clock.now() < until {
                try await clock.sleep(until - clock.now())
                continue
            }
            if probing {
                await waitForProbe()
                continue
            }
            break
        }
        let isProbe = failureStreak > 0
        if isProbe { probing = true }
        do {
            try await waitForSendSlot()
        } catch {
            if isProbe { finishProbe() }
            throw error
        }
        return isProbe
    }

    /// Starts (or, from the probe, lengthens) the shared pause after a retryable failure. A
    /// failure of a request that was already out when the pause began changes nothing, except
    /// that a longer `Retry-After` is honoured.
    private func pause(after error: DeliveryError, retryAfter: Duration?, bodyBytes: Int, probe: Bool) {
        let now = clock.now()
        guard probe || failureStreak == 0 else {
            if let retryAfter {
                let asked = now + min(retryAfter, RetryPolicy.longestRetryAfter)
                pausedUntil = max(pausedUntil ?? asked, asked)
            }
            return
        }
        let delay = retryPolicy.delay(attempt: failureStreak, retryAfter: retryAfter)
        pausedUntil = now + delay
        logger.log(
            level: failureStreak == 0 ? .notice : .debug,
            "request to Track failed; retrying",
            metadata: [
                DeliveryLogKey.status: "\(error.status.map(String.init) ?? "-")",
                DeliveryLogKey.errorCode: "\(error.code.rawValue)",
                DeliveryLogKey.error: "\(error)",
                DeliveryLogKey.batchBytes: "\(bodyBytes)",
                DeliveryLogKey.retryDelay: "\(delay)",
                DeliveryLogKey.failures: "\(failureStreak + 1)",
            ]
        )
        failureStreak += 1
    }

    /// Track answered (whatever it said about the operations): the shared pause is over.
    private func trackAnswered() {
        if failureStreak > 0 {
            logger.notice("Track answers again", metadata: [DeliveryLogKey.failures: "\(failureStreak)"])
        }
        failureStreak = 0
        pausedUntil = nil
    }

    /// The probe came back (or was cancelled): the waiting requests look again.
    private func finishProbe() {
        probing = false
        resumeProbeWaiters()
    }

    private func waitForProbe() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { probeWaiters.append($0) }
        } onCancel: {
            Task { await self.resumeProbeWaiters() }
        }
    }

    private func resumeProbeWaiters() {
        let waiters = probeWaiters
        probeWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Waits for the next request slot under `max_requests_per_second`.
    private func waitForSendSlot() async throws {
        let now = clock.now()
        let slot = max(now, nextSendAt ?? now)
        let perSecond = settings.maxRequestsPerSecond
        nextSendAt = perSecond > 0 ? slot + .seconds(1 / perSecond) : slot
        if slot > now { try await clock.sleep(slot - now) }
    }

    /// Dead-letters the operations at the indices of `rejected` (with those reasons), counts
    /// the rest as accepted, and acknowledges what became complete.
    private func finish(_ operations: Batch, rejected: [Int: String]) async {
        let letters = rejected.keys.sorted().map { index in
            let (run, operation) = operations.locate(index)
            return DeadLetter(
                time: Date(),
                rule: run.chunk.operations.rules[operation],
                source: run.chunk.source,
                file: run.chunk.path,
                offset: run.chunk.operations.lineOffsets[operation],
                reason: rejected[index] ?? "rejected by Track",
                operation: run.chunk.operations.object(at: operation)
            )
        }
        guard await writeDeadLetters(letters) else { return }
        stats.operationsSent += operations.count - letters.count
        var acknowledgements: [AcknowledgementTracker.Acknowledgement] = []
        var index = 0
        let runs = operations.runs
        while index < runs.count {
            // Runs of one chunk (a request split in halves) complete its ticket together.
            let ticket = runs[index].chunk.ticket
            var count = 0
            while index < runs.count, runs[index].chunk.ticket == ticket {
                queuedBytes -= runs[index].operationBytes
                count += runs[index].range.count
                index += 1
            }
            acknowledgements += tracker.complete(ticket, count: count)
        }
        if queuedBytes < settings.queueBytes { resumeSpaceWaiters() }
        await deliverAcknowledgements(acknowledgements)
    }

    /// Writes dead letters, retrying while the disk refuses; `false` only when cancelled first.
    private func writeDeadLetters(_ letters: [DeadLetter]) async -> Bool {
        guard !letters.isEmpty else { return true }
        var attempt = 0
        while true {
            do {
                try deadLetters.write(letters)
                stats.deadLetters += letters.count
                logger.notice(
                    "operations dead-lettered",
                    metadata: [DeliveryLogKey.count: "\(letters.count)", DeliveryLogKey.path: "\(deadLetters.path)"]
                )
                return true
            } catch {
                logger.error(
                    "writing dead letters failed; their lines stay unacknowledged until it works",
                    metadata: [DeliveryLogKey.error: "\(error)"]
                )
                do { try await clock.sleep(retryPolicy.delay(attempt: attempt)) } catch { return false }
                attempt += 1
            }
        }
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
        pendingHead == pending.count && inFlight == 0 && acknowledgementQueue.isEmpty && !acknowledging
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
            await withTaskCancellationHandler {
                await withCheckedContinuation { idleWaiters.append($0) }
            } onCancel: {
                Task { await self.resumeIdleWaiters() }
            }
        }
        return true
    }

    private func resumeIdleWaitersIfIdle() {
        if isIdle { resumeIdleWaiters() }
    }

    private func resumeIdleWaiters() {
        let waiters = idleWaiters
        idleWaiters = []
        for waiter in waiters { waiter.resume() }
    }
}
