import Foundation
import NIOHTTP1
import TailTrack

/// What the request handler does with one request.
indirect enum ServerAction: Sendable {
    case respond(status: Int, headers: [(String, String)], body: [UInt8])
    case drop
    case delay(Duration, then: ServerAction)
}

/// The server's shared, lock-protected state and its request logic (no networking here).
final class TrackTestServerState: @unchecked Sendable {
    struct Request {
        var body: [UInt8]
        var status: Int
    }

    struct Waiter {
        var count: Int
        var continuation: CheckedContinuation<Bool, Never>
    }

    struct Storage {
        var script: [ScriptedResponse] = []
        var accepted: [RecordedOperation] = []
        var requests: [Request] = []
        var lastHeaders: [String: String] = [:]
        var waiters: [UUID: Waiter] = [:]
        var random: SplitMix64
    }

    static let bodyLimit = BatchSettings.trackRequestLimit
    static let operationLimit = BatchSettings.trackOperationLimit

    let configuration: TrackTestServer.Configuration
    private let lock = NSLock()
    private var storage: Storage
    private let expectedAuthorization: String

    init(configuration: TrackTestServer.Configuration) {
        self.configuration = configuration
        self.storage = Storage(random: SplitMix64(seed: configuration.randomSeed))
        let credentials = Data("\(configuration.siteID):\(configuration.apiKey)".utf8).base64EncodedString()
        self.expectedAuthorization = "Basic \(credentials)"
    }

    func withLock<Result>(_ body: (inout Storage) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&storage)
    }

    func addWaiter(id: UUID, count: Int, continuation: CheckedContinuation<Bool, Never>) {
        withLock { storage in
            if storage.accepted.count >= count {
                continuation.resume(returning: true)
            } else {
                storage.waiters[id] = Waiter(count: count, continuation: continuation)
            }
        }
    }

    func timeOutWaiter(id: UUID) {
        withLock { storage in storage.waiters.removeValue(forKey: id) }?.continuation.resume(returning: false)
    }

    /// Decides what to answer to one complete request.
    func handle(head: HTTPRequestHead, body: [UInt8], bodySize: Int) -> ServerAction {
        withLock { storage in
            storage.lastHeaders = [:]
            for name in ["Authorization", "Content-Type", "User-Agent"] {
                if let value = head.headers.first(name: name) { storage.lastHeaders[name] = value }
            }
            var scripted: ScriptedResponse? = storage.script.isEmpty ? nil : storage.script.removeFirst()
            if scripted == nil, let rate = configuration.randomFaultRate, storage.random.nextUnit() < rate {
                let faults: [ScriptedResponse] = [
                    .status(500), .status(429, retryAfter: "0"), .dropConnection, .commitThen(500),
                ]
                scripted = faults[Int(storage.random.next() % UInt64(faults.count))]
            }
            let action = resolve(scripted, head: head, body: body, bodySize: bodySize, storage: &storage)
            storage.requests.append(Request(body: body, status: Self.finalStatus(action)))
            let ready = storage.waiters.filter { $0.value.count <= storage.accepted.count }
            for (id, waiter) in ready {
                storage.waiters[id] = nil
                waiter.continuation.resume(returning: true)
            }
            return action
        }
    }

    private static func finalStatus(_ action: ServerAction) -> Int {
        switch action {
        case .respond(let status, _, _): return status
        case .drop: return 0
        case .delay(_, let next): return finalStatus(next)
        }
    }

    private func resolve(
        _ scripted: ScriptedResponse?,
        head: HTTPRequestHead,
        body: [UInt8],
        bodySize: Int,
        storage: inout Storage
    ) -> ServerAction {
        switch scripted {
        case nil:
            return process(head: head, body: body, bodySize: bodySize, status: 200, excluded: [], storage: &storage)
        case .status(let status, _) where (200..<300).contains(status):
            return process(head: head, body: body, bodySize: bodySize, status: status, excluded: [], storage: &storage)
        case .status(let status, let retryAfter):
            var headers: [(String, String)] = []
            if let retryAfter { headers.append(("Retry-After", retryAfter)) }
            return .respond(status: status, headers: headers, body: Self.metaErrors(["scripted \(status)"]))
        case .dropConnection:
            return .drop
        case .delay(let duration, let next):
            return .delay(duration, then: resolve(next, head: head, body: body, bodySize: bodySize, storage: &storage))
        case .errors(let indices):
            return process(
                head: head,
                body: body,
                bodySize: bodySize,
                status: 200,
                excluded: Set(indices),
                storage: &storage
            )
        case .commitThen(let status):
            let committed = process(
                head: head, body: body, bodySize: bodySize, status: 200, excluded: [], storage: &storage)
            guard case .respond(let committedStatus, _, _) = committed, (200..<300).contains(committedStatus) else {
                return committed
            }
            return .respond(status: status, headers: [], body: Self.metaErrors(["failed after commit"]))
        }
    }

    /// The real server's checks; records what it accepts.
    private func process(
        head: HTTPRequestHead,
        body: [UInt8],
        bodySize: Int,
        status: Int,
        excluded: Set<Int>,
        storage: inout Storage
    ) -> ServerAction {
        guard head.headers.first(name: "Authorization") == expectedAuthorization else {
            return .respond(status: 401, headers: [], body: [])
        }
        guard head.uri == TrackClient.batchPath else {
            return .respond(status: 404, headers: [], body: Self.metaErrors(["no such path \(head.uri)"]))
        }
        guard head.method == .POST else {
            return .respond(status: 405, headers: [], body: Self.metaErrors(["method not allowed"]))
        }
        guard bodySize <= Self.bodyLimit else {
            return .respond(status: 413, headers: [], body: Self.metaErrors(["request body too large"]))
        }
        guard let ranges = BatchScanner.operationRanges(in: body) else {
            return .respond(status: 400, headers: [], body: Self.metaErrors(["body must be {\"batch\":[...]}"]))
        }
        var errors: [(index: Int, reason: String, field: String, message: String)] = []
        var accepted: [RecordedOperation] = []
        for (index, range) in ranges.enumerated() {
            let bytes = Array(body[range])
            if excluded.contains(index) {
                errors.append((index, "scripted", "", "rejected by the test script"))
                continue
            }
            if bytes.count > Self.operationLimit {
                errors.append((index, "too_large", "", "operation is \(bytes.count) bytes; the limit is 32000"))
                continue
            }
            guard let json = JSONValue.parse(bytes) else {
                errors.append((index, "invalid", "", "operation is not valid JSON"))
                continue
            }
            if let problem = TrackOperationValidator.problem(in: json) {
                errors.append((index, "invalid", problem.field, problem.message))
                continue
            }
            accepted.append(RecordedOperation(bytes: bytes, json: json))
        }
        if !errors.isEmpty, configuration.rejectWholeBatchOnInvalidOperation, excluded.isEmpty {
            let messages = errors.map { "batch[\($0.index)].\($0.field): \($0.message)" }
            return .respond(status: 400, headers: [], body: Self.metaErrors(messages))
        }
        storage.accepted.append(contentsOf: accepted)
        guard !errors.isEmpty else {
            return .respond(status: status, headers: [], body: Array("{}".utf8))
        }
        var writer = JSONWriter()
        writer.append(#"{"errors":["#)
        for (position, error) in errors.enumerated() {
            if position > 0 { writer.append(",") }
            writer.append(#"{"batch_index":"#)
            writer.writeInteger(Int64(error.index))
            writer.append(#","reason":"#)
            writer.writeString(error.reason)
            writer.append(#","field":"#)
            writer.writeString(error.field)
            writer.append(#","message":"#)
            writer.writeString(error.message)
            writer.append("}")
        }
        writer.append("]}")
        return .respond(status: 207, headers: [], body: writer.bytes)
    }

    static func metaErrors(_ messages: [String]) -> [UInt8] {
        let value = JSONValue.object([
            JSONMember("meta", .object([JSONMember("errors", .array(messages.map(JSONValue.string)))]))
        ])
        var writer = JSONWriter()
        writer.write(value)
        return writer.bytes
    }
}
