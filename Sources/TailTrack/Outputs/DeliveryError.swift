/// Why a request to Track did not (fully) succeed: what the agent logs, counts and writes to
/// dead letters. It never holds the API key: it is built from the status, the response body
/// and the transport error only.
public struct DeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of failure; ``rawValue`` is the short code used as a metric label.
    public enum Code: String, Sendable, CaseIterable {
        /// Could not connect, or the connection was lost (retried).
        case connection
        /// Connect or request timeout (retried).
        case timeout
        /// 429 Too Many Requests (retried, honouring `Retry-After`).
        case rateLimited = "rate_limited"
        /// 5xx (retried).
        case serverError = "server_error"
        /// 401 or 403: the site id or API key is wrong (retried slowly).
        case unauthorized
        /// A 3xx: the region or URL is probably wrong (retried slowly, never followed).
        case redirected
        /// 404, 405 or another 4xx that says the endpoint is wrong (retried slowly).
        case misconfigured
        /// 400: the request was rejected as a whole (split to find the bad operations).
        case badRequest = "bad_request"
        /// 413: the body was too large (split).
        case tooLarge = "too_large"
        /// Track rejected one operation of a batch (207).
        case rejected
        /// The operation is larger than Track accepts and was never sent.
        case operationTooLarge = "operation_too_large"
        /// The response could not be understood.
        case invalidResponse = "invalid_response"
        /// The dead-letter file could not be written or read.
        case deadLetterFile = "dead_letter_file"
    }

    /// The HTTP status, when a response arrived.
    public var status: Int?
    public var code: Code
    /// What happened, in words a user can act on.
    public var message: String

    public init(status: Int? = nil, code: Code, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String {
        if let status {
            return "Track answered HTTP \(status) (\(code.rawValue)): \(message)"
        }
        return "Track request failed (\(code.rawValue)): \(message)"
    }
}
