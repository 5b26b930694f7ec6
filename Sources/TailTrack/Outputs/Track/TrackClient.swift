import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Posts batches to Track v2 (`POST {baseURL}/api/v2/batch`) and classifies the answers: the
/// Track ``BatchAPI`` that the ``Batcher`` delivers to (see ``TrackSending``).
///
/// One keep-alive connection pool shared by every request; redirects are never followed
/// (a redirect means the region or URL is wrong, and following it would send the
/// credentials elsewhere). The only place the API key is revealed.
public final class TrackClient: TrackSending {
    /// The path every request goes to.
    public static let batchPath = "/api/v2/batch"
    /// The agent's version, sent in `User-Agent`: ``TailTrackVersion/string``.
    public static var agentVersion: String { TailTrackVersion.string }
    /// Longest response body read; Track's answers are small.
    static let maxResponseBytes = 1 << 20

    private let httpClient: HTTPClient
    private let url: String
    private let authorization: String
    private let requestTimeout: Duration
    private let logger: Logger

    /// Creates a client for `settings`. Throws a ``DeliveryError`` when the site id or API key
    /// is missing.
    public init(settings: TrackSettings, logger: Logger) throws {
        guard let siteID = settings.siteID, !siteID.isEmpty, let apiKey = settings.apiKey else {
            throw DeliveryError(
                code: .unauthorized,
                message: "track.site_id and track.api_key (or api_key_file) must be set to send to Track"
            )
        }
        let credentials = Data("\(siteID):\(apiKey.reveal())".utf8).base64EncodedString()
        self.authorization = "Basic " + credentials
        self.url = settings.baseURL + Self.batchPath
        self.requestTimeout = settings.requestTimeout
        self.logger = logger
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: TimeAmount(settings.connectTimeout))
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(60))
        self.httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Closes the connections. Call once, after the last ``send(body:)``.
    public func shutdown() async {
        do {
            try await httpClient.shutdown()
        } catch {
            logger.debug("closing the Track client failed", metadata: ["error": "\(error)"])
        }
    }

    public func send(body: [UInt8]) async -> TrackOutcome {
        await send(body: ByteBuffer(bytes: body))
    }

    public func send(body: ByteBuffer) async -> TrackOutcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "tailtrack/\(Self.agentVersion)")
        request.body = .bytes(body)
        do {
            let response = try await httpClient.execute(request, timeout: TimeAmount(requestTimeout))
            let responseBody = try await response.body.collect(upTo: Self.maxResponseBytes)
            return TrackResponse.classify(
                status: Int(response.status.code),
                retryAfter: response.headers.first(name: "Retry-After"),
                body: Array(buffer: responseBody)
            )
        } catch {
            return .retryable(Self.transportError(error), retryAfter: nil)
        }
    }

    /// A ``DeliveryError`` for a failure below HTTP (no response, or a cut-off one).
    static func transportError(_ error: any Error) -> DeliveryError {
        if let httpError = error as? HTTPClientError {
            switch httpError {
            case .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout,
                .tlsHandshakeTimeout:
                return DeliveryError(code: .timeout, message: "no answer in time (\(httpError.shortDescription))")
            default:
                return DeliveryError(code: .connection, message: "connection failed (\(httpError.shortDescription))")
            }
        }
        return DeliveryError(code: .connection, message: "connection failed (\(error))")
    }
}

extension TimeAmount {
    /// The same span in NIO's unit.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
