import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TailTrack

/// A Track v2 server on 127.0.0.1 for tests: checks requests like the real one, records what
/// it accepted, and injects faults on demand.
///
/// Checks: Basic auth (401), `POST /api/v2/batch` (404/405), a body of at most 500,000 bytes
/// (413), the shape `{"batch":[…]}` (400), and each operation (≤ 32,000 bytes, schema as in
/// ``TrackOperationValidator``): invalid ones are reported in a 207 with `errors[]`, the rest
/// accepted and recorded in order.
public final class TrackTestServer: Sendable {
    /// What the server accepts.
    public struct Configuration: Sendable {
        public var siteID: String
        public var apiKey: String
        /// Answer 400 for the whole request when any operation is invalid, instead of a 207.
        public var rejectWholeBatchOnInvalidOperation: Bool
        /// Random faults: with this probability per request, one of 500, 429, a dropped
        /// connection, or "commit then 500". `nil`: none.
        public var randomFaultRate: Double?
        public var randomSeed: UInt64

        public init(
            siteID: String = "test-site",
            apiKey: String = "test-key",
            rejectWholeBatchOnInvalidOperation: Bool = false,
            randomFaultRate: Double? = nil,
            randomSeed: UInt64 = 1
        ) {
            self.siteID = siteID
            self.apiKey = apiKey
            self.rejectWholeBatchOnInvalidOperation = rejectWholeBatchOnInvalidOperation
            self.randomFaultRate = randomFaultRate
            self.randomSeed = randomSeed
        }
    }

    let configuration: Configuration
    let state: TrackTestServerState
    private let group: MultiThreadedEventLoopGroup
    private let channelBox = LockedBox<(any Channel)?>(nil)

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.state = TrackTestServerState(configuration: configuration)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Binds 127.0.0.1 on a free port.
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws {
        let state = self.state
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(TrackRequestHandler(state: state))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        channelBox.withValue { $0 = channel }
    }

    /// The bound port (0 before ``start(host:port:)``).
    public var port: Int { channelBox.withValue { $0?.localAddress?.port } ?? 0 }

    /// `http://127.0.0.1:PORT`, the value for `track.url`.
    public var url: String { "http://127.0.0.1:\(port)" }

    public func shutdown() async throws {
        let channel = channelBox.withValue { value in
            defer { value = nil }
            return value
        }
        try await channel?.close()
        try await group.shutdownGracefully()
    }

    // MARK: Scripting and inspection

    /// Queues responses for the next requests, in order; once used up the server behaves normally.
    public func script(_ responses: ScriptedResponse...) {
        state.withLock { $0.script.append(contentsOf: responses) }
    }

    /// Every accepted operation, in order.
    public var accepted: [RecordedOperation] { state.withLock { $0.accepted } }

    /// Requests received (all of them, faults included).
    public var requestCount: Int { state.withLock { $0.requests.count } }

    /// The body of every request received, in order.
    public var requestBodies: [[UInt8]] { state.withLock { $0.requests.map(\.body) } }

    /// The status answered to every request (0 for a dropped connection), in order.
    public var responseStatuses: [Int] { state.withLock { $0.requests.map(\.status) } }

    /// The `Authorization`, `Content-Type` and `User-Agent` headers of the last request.
    public var lastHeaders: [String: String] { state.withLock { $0.lastHeaders } }

    /// Waits until at least `count` operations were accepted; `false` after `timeout`.
    public func waitForAccepted(count: Int, timeout: Duration) async -> Bool {
        let id = UUID()
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    self.state.addWaiter(id: id, count: count, continuation: continuation)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.state.timeOutWaiter(id: id)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            self.state.timeOutWaiter(id: id)
            return first
        }
    }
}

/// A response the server gives instead of (or around) its normal handling.
public indirect enum ScriptedResponse: Sendable, Equatable {
    /// Answer with this status without recording (a 2xx is handled normally, with that status).
    case status(Int, retryAfter: String? = nil)
    /// Close the connection without answering.
    case dropConnection
    /// Wait, then do the next thing.
    case delay(Duration, then: ScriptedResponse)
    /// Accept every operation except these indices, listed in a 207.
    case errors([Int])
    /// Record the operations as accepted, then answer this status (a 500 after commit).
    case commitThen(Int)
}

/// One accepted operation: its bytes as sent and its parsed JSON.
public struct RecordedOperation: Sendable, Equatable {
    public var bytes: [UInt8]
    public var json: JSONValue

    /// The operation's member `key` (`type`, `action`, `name`, `id`, …).
    public subscript(key: String) -> JSONValue? { json[key] }
}

/// A tiny lock-protected value; Foundation's lock keeps this target free of other modules.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withValue<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
