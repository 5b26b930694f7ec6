import NIOCore

/// Sends request bodies to Track; ``TrackClient`` is the real one, tests may substitute.
///
/// Everything that sends to Track is a ``BatchAPI``: Track's limits, its body
/// (``TrackBatchBody``) and the reading of its answers (``TrackOutcome/batchOutcome``) are
/// defined here once, so the ``Batcher`` delivers to Track like to any other batch API.
public protocol TrackSending: BatchAPI {
    /// Sends one batch body and classifies the answer. Never throws: every failure is an outcome.
    func send(body: [UInt8]) async -> TrackOutcome

    /// The same, with the body already in the buffer the HTTP client writes from (what the
    /// ``Batcher`` builds, saving a copy of every body).
    func send(body: ByteBuffer) async -> TrackOutcome
}

extension TrackSending {
    public func send(body: ByteBuffer) async -> TrackOutcome {
        await send(body: Array(buffer: body))
    }

    public var name: String { "Track" }

    public var limits: BatchRequestLimits { .track }

    public func body(joining texts: [ArraySlice<UInt8>]) -> ByteBuffer {
        TrackBatchBody.buffer(joining: texts)
    }

    public func deliver(body: ByteBuffer) async -> BatchOutcome {
        await send(body: body).batchOutcome
    }
}

extension BatchRequestLimits {
    /// Track v2's: 500,000 bytes per request, 32,000 per operation, `{"batch":[` `]}` around.
    public static let track = BatchRequestLimits(
        requestBytes: TrackLimits.requestBytes,
        operationBytes: TrackLimits.operationBytes,
        envelopeBytes: TrackBatchBody.overhead
    )
}

extension TrackOutcome {
    /// What the ``Batcher`` does with this answer: a 400 and a 413 both split the batch, a
    /// 401/403 and a wrong endpoint both wait for the config to be fixed, and a 207's errors
    /// become dead-letter reasons.
    public var batchOutcome: BatchOutcome {
        switch self {
        case .accepted:
            return .accepted
        case .partiallyRejected(_, let errors):
            return .partiallyRejected(
                errors.map { BatchItemRejection(index: $0.batchIndex, reason: $0.deadLetterReason) })
        case .badRequest(let error), .tooLarge(let error):
            return .rejected(error)
        case .unauthorized(let error), .misconfigured(let error):
            return .refused(error)
        case .retryable(let error, let retryAfter):
            return .retryable(error, retryAfter: retryAfter)
        }
    }
}
