/// Where operations go once the rules made them: a batch HTTP API such as Track (a ``Batcher``
/// delivering to a ``BatchAPI``) or a local file (``FileOutputSink``). All sinks have the same
/// shape so the pipeline does not care which.
public protocol OperationSink: Sendable {
    /// Hands over one chunk. May suspend while the sink is full: that is the backpressure that
    /// stops the tailer from reading further.
    func submit(_ chunk: OperationChunk) async

    /// Hands over several chunks in order (a tailer step's): the same as submitting each, in
    /// fewer hand-overs.
    func submit(_ chunks: [OperationChunk]) async

    /// The sink's service loop; returns when the task is cancelled.
    func run() async throws

    /// Delivers what is queued, for at most `timeout`. Returns `true` when everything was
    /// delivered (and acknowledged); what was not stays unacknowledged and is read again at the
    /// next start.
    func drain(timeout: Duration) async -> Bool
}

extension OperationSink {
    public func submit(_ chunks: [OperationChunk]) async {
        for chunk in chunks { await submit(chunk) }
    }
}

/// Counters of a sink, read by metrics and tests.
public struct DeliveryStats: Sendable, Equatable {
    /// Operations handed to the sink (not counting those rejected before the wire).
    public var operationsSubmitted = 0
    /// Operations accepted by Track (or written by the file sink).
    public var operationsSent = 0
    /// Requests made, retries included.
    public var requests = 0
    /// Retries by cause: ``DeliveryError/Code`` raw values (`server_error`, `rate_limited`, …).
    public var retries: [String: Int] = [:]
    /// Batches split in halves after a 400 or 413.
    public var splits = 0
    /// Operations written to the dead-letter file.
    public var deadLetters = 0
    /// Encoded bytes waiting or in flight.
    public var queueBytes = 0
    /// Positions reported to the tailer.
    public var acknowledgements = 0

    public init() {}
}

/// Metadata keys of delivery logs, defined once.
enum DeliveryLogKey {
    static let status = "http.status"
    static let errorCode = "error.code"
    static let error = "error"
    static let batchBytes = "batch.bytes"
    static let batchOperations = "batch.operations"
    static let retryDelay = "retry.delay"
    static let failures = "retry.failures"
    static let path = "file.path"
    static let count = "count"
}

/// Time as the batcher sees it: injectable so tests can control waits.
public struct DeliveryClock: Sendable {
    public var now: @Sendable () -> ContinuousClock.Instant
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        now: @escaping @Sendable () -> ContinuousClock.Instant,
        sleep: @escaping @Sendable (Duration) async throws -> Void
    ) {
        self.now = now
        self.sleep = sleep
    }

    /// The real clock.
    public static var continuous: DeliveryClock {
        DeliveryClock(now: { ContinuousClock.now }, sleep: { try await Task.sleep(for: $0) })
    }
}
