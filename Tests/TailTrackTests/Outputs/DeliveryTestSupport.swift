import Foundation
import Logging
import Testing
import TrackTestServer

@testable import TailTrack

/// Shared helpers for the delivery tests.
enum DeliveryFixture {
    static let siteID = "site-123"
    static let apiKey = "sk_live_KNOWN_SECRET_4f9a"

    /// A valid person event of exactly `size` bytes (at least 110), numbered `n`.
    static func operation(_ n: Int, size: Int = 120, rule: String = "purchase") -> EncodedOperation {
        let head =
            #"{"type":"person","action":"event","identifiers":{"id":"\#(n)"},"name":"purchase","attributes":{"pad":""#
        let tail = #""}}"#
        let padding = max(0, size - head.utf8.count - tail.utf8.count)
        let bytes = Array((head + String(repeating: "x", count: padding) + tail).utf8)
        return EncodedOperation(bytes: bytes, rule: rule, lineOffset: UInt64(n) * 10)
    }

    /// An operation Track rejects (no identifiers).
    static func invalidOperation(_ n: Int) -> EncodedOperation {
        EncodedOperation(
            bytes: Array(#"{"type":"person","action":"event","name":"bad\#(n)"}"#.utf8),
            rule: "broken",
            lineOffset: UInt64(n) * 10
        )
    }

    static func chunk(
        file: UInt64 = 1,
        endOffset: UInt64,
        _ operations: [EncodedOperation],
        rejected: [RejectedOperation] = []
    ) -> OperationChunk {
        OperationChunk(
            source: "app",
            path: "/var/log/app.log",
            file: FileKey(rawValue: file),
            endOffset: endOffset,
            operations: operations,
            rejected: rejected
        )
    }

    static func trackSettings(url: String, key: String = apiKey) -> TrackSettings {
        TrackSettings(
            url: url,
            siteID: siteID,
            apiKey: Secret(key),
            connectTimeout: .seconds(1),
            requestTimeout: .seconds(2)
        )
    }

    static let fastRetry = RetrySettings(
        initialBackoff: .milliseconds(5),
        maxBackoff: .milliseconds(20),
        authBackoff: .milliseconds(20)
    )

    static func makeServer(rejectWhole: Bool = false) async throws -> TrackTestServer {
        let server = TrackTestServer(
            configuration: .init(siteID: siteID, apiKey: apiKey, rejectWholeBatchOnInvalidOperation: rejectWhole)
        )
        try await server.start()
        return server
    }

    /// A logger that drops everything (tests that check logs use ``CapturedLogs``).
    static let logger = Logger(label: "tailtrack.delivery.tests") { _ in SwiftLogNoOpLogHandler() }
}

/// Collects acknowledgements in the order they arrive.
actor AcknowledgementLog {
    private(set) var entries: [(FileKey, UInt64)] = []
    private var waiters: [(id: Int, count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private var nextWaiter = 0

    func record(_ file: FileKey, _ offset: UInt64) {
        entries.append((file, offset))
        let ready = waiters.filter { $0.count <= entries.count }
        waiters.removeAll { $0.count <= entries.count }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// The acknowledgements of each call, for a batcher that hands them over together.
    private(set) var calls: [[(FileKey, UInt64)]] = []

    func recordAll(_ acknowledgements: [AcknowledgementTracker.Acknowledgement]) {
        calls.append(acknowledgements.map { ($0.file, $0.endOffset) })
        for acknowledgement in acknowledgements { record(acknowledgement.file, acknowledgement.endOffset) }
    }

    var offsets: [UInt64] { entries.map(\.1) }

    /// Waits until `count` acknowledgements arrived, or `timeout` passed (the test's own
    /// expectations on ``offsets`` then fail and say what came, instead of the run hanging:
    /// acknowledgements of one file that fall due together arrive as one).
    func wait(for count: Int, timeout: Duration = .seconds(10)) async {
        if entries.count >= count { return }
        let id = nextWaiter
        nextWaiter += 1
        let expiry = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.expire(id)
        }
        await withCheckedContinuation { waiters.append((id, count, $0)) }
        expiry.cancel()
    }

    private func expire(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume()
    }
}

/// Keeps every log message (level and text) so tests can assert what a user would see in
/// the journal.
final class CapturedLogs: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [(Logger.Level, String, Logger.Metadata)] = []

    func append(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) {
        lock.lock()
        defer { lock.unlock() }
        records.append((level, message, metadata))
    }

    /// The messages logged at `level`.
    func messages(at level: Logger.Level) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return records.filter { $0.0 == level }.map(\.1)
    }

    /// Every message with its metadata, rendered as text.
    func rendered() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return records.map { "\($0.0) \($0.1) \($0.2)" }
    }

    /// A logger (level trace) writing here.
    func logger() -> Logger {
        var logger = Logger(label: "tailtrack.delivery.tests") { _ in CapturingLogHandler(logs: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let logs: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        logs.append(event.level, "\(event.message)", metadata.merging(event.metadata ?? [:]) { $1 })
    }
}
