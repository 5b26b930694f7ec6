import NIOCore
import NIOHTTP1

/// Collects one HTTP request at a time and answers what ``TrackTestServerState`` decides.
final class TrackRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: TrackTestServerState
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var bodySize = 0

    init(state: TrackTestServerState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
            bodySize = 0
        case .body(var buffer):
            bodySize += buffer.readableBytes
            // Past the limit only the size matters (the answer is 413).
            if body.count <= TrackTestServerState.bodyLimit, let bytes = buffer.readBytes(length: buffer.readableBytes)
            {
                body += bytes
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let action = state.handle(head: requestHead, body: body, bodySize: bodySize)
            body = []
            perform(action, context: context, keepAlive: requestHead.isKeepAlive)
        }
    }

    private func perform(_ action: ServerAction, context: ChannelHandlerContext, keepAlive: Bool) {
        switch action {
        case .drop:
            context.close(promise: nil)
        case .delay(let duration, let next):
            let (seconds, attoseconds) = duration.components
            let amount = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
            context.eventLoop.assumeIsolated().scheduleTask(in: amount) {
                self.perform(next, context: context, keepAlive: keepAlive)
            }
        case .respond(let status, let extraHeaders, let responseBody):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(responseBody.count))
            headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
            for (name, value) in extraHeaders { headers.add(name: name, value: value) }
            let responseHead = HTTPResponseHead(
                version: .http1_1,
                status: HTTPResponseStatus(statusCode: status),
                headers: headers
            )
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: responseBody)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        }
    }
}
