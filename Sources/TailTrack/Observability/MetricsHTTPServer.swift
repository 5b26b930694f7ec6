import NIOCore
import NIOHTTP1
import NIOPosix

/// The `metrics.listen` endpoint: `GET /metrics` in Prometheus text format, `GET /healthz`
/// answering 200 `ok` or 503 with the reason. Everything else is 404; a request body is ignored.
public final class MetricsHTTPServer: Sendable {
    /// One answer: status and plain-text body.
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]

        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Binds `host:port` (port 0 picks a free one) and serves `respond(path)` until ``close()``.
    public static func start(
        host: String, port: Int, respond: @escaping @Sendable (String) -> Response
    ) async throws -> MetricsHTTPServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsRequestHandler(respond: respond))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return MetricsHTTPServer(channel: channel)
    }

    /// The address actually bound, as `host:port`.
    public var boundAddress: String {
        guard let address = channel.localAddress else { return "?" }
        let host = address.ipAddress ?? "?"
        let shown = host.contains(":") ? "[\(host)]" : host
        return "\(shown):\(address.port ?? 0)"
    }

    /// The port actually bound.
    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Stops listening.
    public func close() async {
        try? await channel.close()
    }

    /// Splits `HOST:PORT` or `[V6]:PORT` (validated by the config loader).
    public static func split(listen: String) -> (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            return nil
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}

/// Answers one request at a time on a connection.
final class MetricsRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let respond: @Sendable (String) -> MetricsHTTPServer.Response
    private var head: HTTPRequestHead?

    init(respond: @escaping @Sendable (String) -> MetricsHTTPServer.Response) {
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
        case .body:
            break
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let path = String(requestHead.uri.prefix { $0 != "?" })
            var response: MetricsHTTPServer.Response
            if requestHead.method == .GET || requestHead.method == .HEAD {
                response = respond(path)
            } else {
                response = .init(status: 405, body: Array("method not allowed\n".utf8))
            }
            if requestHead.method == .HEAD { response.body = [] }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: response.contentType)
            headers.add(name: "Content-Length", value: String(response.body.count))
            headers.add(name: "Connection", value: requestHead.isKeepAlive ? "keep-alive" : "close")
            let responseHead = HTTPResponseHead(
                version: requestHead.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !requestHead.isKeepAlive {
                done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        }
    }
}
