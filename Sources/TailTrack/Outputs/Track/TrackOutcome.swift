/// What one `POST /api/v2/batch` came to, classified for the batcher.
public enum TrackOutcome: Sendable, Equatable {
    /// 2xx without errors: every operation was accepted.
    case accepted(status: Int)
    /// 2xx (usually 207) listing rejected operations by index; all others were accepted.
    case partiallyRejected(status: Int, [TrackItemError])
    /// 400: the request was rejected as a whole; split it to isolate the bad operations.
    case badRequest(DeliveryError)
    /// 413: the body was too large; split it.
    case tooLarge(DeliveryError)
    /// 401/403: the credentials are wrong; nothing will work until they are fixed.
    case unauthorized(DeliveryError)
    /// A redirect or a 4xx saying the endpoint is wrong; nothing will work until the config
    /// is fixed.
    case misconfigured(DeliveryError)
    /// 429, 5xx, timeouts, lost connections: send the same bytes again later, not before
    /// `retryAfter` when the server said so.
    case retryable(DeliveryError, retryAfter: Duration?)
}

/// One entry of a 207's `errors`: why Track rejected the operation at `batchIndex`.
public struct TrackItemError: Sendable, Equatable {
    public var batchIndex: Int
    public var reason: String
    public var field: String
    public var message: String

    public init(batchIndex: Int, reason: String, field: String, message: String) {
        self.batchIndex = batchIndex
        self.reason = reason
        self.field = field
        self.message = message
    }

    /// The text written to the dead-letter file: `reason: field: message`, parts left out
    /// when empty.
    public var deadLetterReason: String {
        let parts = [reason, field, message].filter { !$0.isEmpty }
        return parts.isEmpty ? "rejected by Track" : "Track rejected it: " + parts.joined(separator: ": ")
    }
}
