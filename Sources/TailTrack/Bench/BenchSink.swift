import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A lean Track v2 stand-in on 127.0.0.1 for the benchmark: answers `POST /api/v2/batch` with
/// 200 and counts the operations in each body, noting when an expected total is reached.
///
/// While ``isStalled`` it plays an endpoint that hangs: it reads every request and answers
/// none, counting them apart (``Counts/unansweredRequests``), so the agent's requests time out
/// and its queue fills; operations count only in answered requests, so after a stall the
/// counts say what the agent delivered, each operation once.
///
/// It does not validate operations (the test server in Tests/ does): it scans each body once,
/// as it streams in, for the objects directly inside `batch`, so the sink costs the machine
/// as little as possible while the agent is measured.
public final class BenchSink: Sendable {
    /// What the sink has seen.
    public struct Counts: Sendable, Equatable {
        public var requests = 0
        public var operations = 0
        public var bodyBytes = 0
        /// Requests that were not `POST /api/v2/batch` (answered 404).
        public var otherRequests = 0
        /// Requests read while stalled and never answered.
        public var unansweredRequests = 0
        /// Operations in those requests.
        public var unansweredOperations = 0
    }

    private let group: MultiThreadedEventLoopGroup
    private let channel = Mutex<(any Channel)?>(nil)
    private let state = Mutex(SinkState())

    struct SinkState {
        var counts = Counts()
        var target: Int?
        var reachedAt: ContinuousClock.Instant?
        var stalled = false
    }

    public init() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Binds a free port on 127.0.0.1.
    public func start() async throws {
        let sink = self
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(BenchSinkHandler(sink: sink))
                }
            }
        let bound = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        channel.withLock { $0 = bound }
    }

    /// `http://127.0.0.1:PORT`, for `track.url`.
    public var url: String {
        let port = channel.withLock { $0?.localAddress?.port } ?? 0
        return "http://127.0.0.1:\(port)"
    }

    public func shutdown() async throws {
        let bound = channel.withLock { value in
            defer { value = nil }
            return value
        }
        try await bound?.close()
        try await group.shutdownGracefully()
    }

    /// The counts so far.
    public var counts: Counts { state.withLock { $0.counts } }

    /// Clears the counts and sets the operation count whose arrival time ``reachedAt`` reports.
    /// The sink answers again if it was stalled.
    public func reset(expecting target: Int) {
        state.withLock {
            $0 = SinkState(target: target)
            if target == 0 { $0.reachedAt = .now }
        }
    }

    /// Whether requests are read and left unanswered, like an endpoint that hangs. Setting it
    /// to `false` answers the requests that come after; the ones held stay unanswered (the
    /// agent times them out and sends them again).
    public var isStalled: Bool {
        get { state.withLock { $0.stalled } }
        set { state.withLock { $0.stalled = newValue } }
    }

    /// When the operation count first reached the target given to ``reset(expecting:)``.
    public var reachedAt: ContinuousClock.Instant? { state.withLock { $0.reachedAt } }

    /// Counts a request that has been read whole; `false` when it is to be left unanswered.
    func record(operations: Int, bodyBytes: Int, batch: Bool) -> Bool {
        state.withLock {
            if $0.stalled {
                $0.counts.unansweredRequests += 1
                $0.counts.unansweredOperations += operations
                return false
            }
            guard batch else {
                $0.counts.otherRequests += 1
                return true
            }
            $0.counts.requests += 1
            $0.counts.operations += operations
            $0.counts.bodyBytes += bodyBytes
            if $0.reachedAt == nil, let target = $0.target, $0.counts.operations >= target {
                $0.reachedAt = .now
            }
            return true
        }
    }
}

/// Counts the objects directly inside the top-level array of a JSON body fed in pieces.
///
/// `{"batch":[{…},{…}]}`: an object opening at depth 2 is one operation. Strings are skipped
/// with their escapes, so braces inside values do not count. Inside a string, 8 bytes without
/// a quote or a backslash are skipped at a time: the sink shares the machine with the agent it
/// measures, so it should take as little of it as it can.
struct BatchOperationCounter {
    private(set) var operations = 0
    private var depth = 0
    private var inString = false
    private var escaped = false

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        var index = 0
        while index < count {
            if inString {
                if escaped {
                    escaped = false
                    index += 1
                    continue
                }
                while index + 8 <= count,
                    !Self.hasQuoteOrBackslash(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                {
                    index += 8
                }
                guard index < count else { break }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                index += 1
                continue
            }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth == 2 && byte == UInt8(ascii: "{") { operations += 1 }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            default:
                break
            }
            index += 1
        }
    }

    /// Whether any of the 8 bytes of `word` is `"` or a backslash (the "has a zero byte" trick).
    @inline(__always)
    private static func hasQuoteOrBackslash(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ 0x2222_2222_2222_2222
        let backslashes = word ^ 0x5C5C_5C5C_5C5C_5C5C
        return ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes) & highs != 0
    }
}

/// One connection of the ``BenchSink``.
final class BenchSinkHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let sink: BenchSink
    private var counter = BatchOperationCounter()
    private var bodyBytes = 0
    private var isBatch = false
    private var keepAlive = true
    private static let okBody = ByteBuffer(string: "{}")

    init(sink: BenchSink) {
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            counter = BatchOperationCounter()
            bodyBytes = 0
            isBatch = head.method == .POST && head.uri == TrackClient.batchPath
            keepAlive = head.isKeepAlive
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            if isBatch {
                buffer.withUnsafeReadableBytes { counter.feed($0) }
            }
        case .end:
            if sink.record(operations: counter.operations, bodyBytes: bodyBytes, batch: isBatch) {
                respond(context: context, status: isBatch ? .ok : .notFound)
            }
        }
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(Self.okBody.readableBytes))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(Self.okBody))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
