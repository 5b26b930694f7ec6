import NIOCore

/// An HTTP API that takes operations in batches (Track v2's `POST /api/v2/batch` today;
/// Customer.io's Pipelines `POST /v1/batch` next): what the ``Batcher`` needs to know about
/// it, and nothing more.
///
/// The ``Batcher`` does the rest for every such API: the bounded queue, packing bodies up to
/// the request limit, the shared backoff with `Retry-After`, `max_requests_per_second`,
/// splitting a rejected batch, dead letters and acknowledgements. An API supplies its limits,
/// its body, and the classification of its answers into a ``BatchOutcome``.
public protocol BatchAPI: Sendable {
    /// What logs and dead-letter reasons call the service: `Track`.
    var name: String { get }

    /// The largest request and operation it takes, and the bytes a body adds around its
    /// operations.
    var limits: BatchRequestLimits { get }

    /// The request body holding `texts` in order, each one operation or a run of operations
    /// already joined by commas, in the buffer the HTTP client sends from. Its size must be
    /// ``BatchRequestLimits/bodySize(operationBytes:count:)`` of the operations it holds.
    func body(joining texts: [ArraySlice<UInt8>]) -> ByteBuffer

    /// Sends one body and classifies the answer. Never throws: every failure is an outcome.
    func deliver(body: ByteBuffer) async -> BatchOutcome
}

/// How large an API's requests may be, and how a body's size follows from its operations:
/// a fixed envelope (`{"batch":[` and `]}` for Track) around operations joined by commas.
public struct BatchRequestLimits: Sendable, Equatable {
    /// Largest request body, envelope included.
    public var requestBytes: Int
    /// Largest single operation.
    public var operationBytes: Int
    /// Bytes of a body without operations.
    public var envelopeBytes: Int

    public init(requestBytes: Int, operationBytes: Int, envelopeBytes: Int) {
        self.requestBytes = requestBytes
        self.operationBytes = operationBytes
        self.envelopeBytes = envelopeBytes
    }

    /// The size of a body holding `count` operations of `operationBytes` bytes in all.
    public func bodySize(operationBytes: Int, count: Int) -> Int {
        envelopeBytes + operationBytes + max(0, count - 1)
    }
}

/// What one batch request came to, as the ``Batcher`` acts on it. Each ``BatchAPI`` sorts its
/// own answers into these.
public enum BatchOutcome: Sendable, Equatable {
    /// Every operation was accepted.
    case accepted
    /// The listed operations (by index in the request) were rejected; every other one was
    /// accepted. The rejected ones are dead-lettered with their reasons.
    case partiallyRejected([BatchItemRejection])
    /// The request was rejected as a whole (a bad operation somewhere in it, or a body too
    /// large): it is split in halves until the bad operations are isolated, and a rejected
    /// single operation is dead-lettered.
    case rejected(DeliveryError)
    /// The credentials or the endpoint are wrong (401/403, a redirect, an unknown path):
    /// nothing works until the config is fixed. Retried every `retry.auth_backoff`, logged
    /// once as an error.
    case refused(DeliveryError)
    /// Send the same bytes again later: timeouts, lost connections, 5xx, and rate limiting
    /// (429, with the code ``DeliveryError/Code/rateLimited``). Every request shares the
    /// backoff, which lasts at least `retryAfter` when the server said so.
    case retryable(DeliveryError, retryAfter: Duration?)
}

/// One operation of a request that the API rejected, and why.
public struct BatchItemRejection: Sendable, Equatable {
    /// The operation's index in the request.
    public var index: Int
    /// The text written to the dead-letter file.
    public var reason: String

    public init(index: Int, reason: String) {
        self.index = index
        self.reason = reason
    }
}
