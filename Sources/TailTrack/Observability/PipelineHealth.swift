/// Judges, from successive ``PipelineSnapshot``s, whether the pipeline is alive (for the
/// systemd watchdog) and whether deliveries are healthy (for `/healthz`), and writes the one-line
/// status `systemctl status` shows.
///
/// - **Alive** means making progress (lines read, operations delivered or requests made since the
///   last snapshot) or idle-healthy (nothing to do, or waiting on a delivery retry). It is *not*
///   alive when files grew for several snapshots in a row while nothing was read and the queue had
///   room (reading is stuck), or when operations have waited longer than any retry backoff without
///   a single request (delivery is stuck). A snapshot that never arrives (a stage deadlocked)
///   stops the pings by itself.
/// - **Unhealthy** means operations have been waiting without any being delivered for longer than
///   `metrics.unhealthy_after` (Track down, credentials refused, every request failing).
public struct PipelineHealth: Sendable {
    /// The watchdog's view of the pipeline.
    public enum Liveness: String, Sendable, Equatable {
        case progressing
        case idle
        case waitingForDelivery = "waiting for delivery"
        case readingStalled = "reading stalled"
        case deliveryStalled = "delivery stalled"

        /// Whether systemd's watchdog should be pinged.
        public var isAlive: Bool {
            switch self {
            case .progressing, .idle, .waitingForDelivery: return true
            case .readingStalled, .deliveryStalled: return false
            }
        }
    }

    /// Snapshots in a row with growing files and nothing read before reading counts as stalled.
    public static let stalledReadingSnapshots = 3

    private let unhealthyAfter: Duration
    private let longestQuietDelivery: Duration
    private let queueCapacity: Int
    private var previous: PipelineSnapshot?
    private var previousAt: ContinuousClock.Instant?
    private var growingUnread = 0
    private var lastRequestAt: ContinuousClock.Instant?
    private var failingSince: ContinuousClock.Instant?
    /// Unix time of the last snapshot in which operations were accepted.
    public private(set) var lastSuccess: Double?
    /// Lines per second between the last two snapshots.
    public private(set) var linesPerSecond: Double = 0
    /// The latest judgement.
    public private(set) var liveness: Liveness = .idle

    /// - Parameters:
    ///   - unhealthyAfter: `metrics.unhealthy_after`.
    ///   - longestQuietDelivery: the longest a healthy batcher may go without a request while
    ///     operations wait (the longest backoff plus the flush interval and some slack).
    ///   - queueCapacity: `batch.queue_bytes`, past which reading pauses by design.
    public init(unhealthyAfter: Duration, longestQuietDelivery: Duration, queueCapacity: Int) {
        self.unhealthyAfter = unhealthyAfter
        self.longestQuietDelivery = longestQuietDelivery
        self.queueCapacity = queueCapacity
    }

    /// Takes a snapshot made at `now` (`wallTime`: the same moment in Unix seconds).
    public mutating func record(_ snapshot: PipelineSnapshot, at now: ContinuousClock.Instant, wallTime: Double) {
        let before = previous ?? PipelineSnapshot()
        let read = snapshot.linesRead > before.linesRead
        let delivered = snapshot.operationsDelivered > before.operationsDelivered
        let requested = snapshot.delivery.requests > before.delivery.requests
        let queued = snapshot.delivery.queueBytes > 0

        if snapshot.delivery.operationsSent > before.delivery.operationsSent { lastSuccess = wallTime }
        if requested || !queued || lastRequestAt == nil { lastRequestAt = now }
        if delivered || !queued {
            failingSince = nil
        } else if failingSince == nil {
            failingSince = previousAt ?? now
        }
        if let previousAt, previousAt < now {
            let seconds =
                Double(previousAt.duration(to: now).components.seconds)
                + Double(previousAt.duration(to: now).components.attoseconds) / 1e18
            linesPerSecond = Double(snapshot.linesRead - before.linesRead) / seconds
        }
        let backpressured = snapshot.delivery.queueBytes >= queueCapacity
        if !read, !backpressured, previous != nil, snapshot.bytesBehind > before.bytesBehind {
            growingUnread += 1
        } else if read {
            growingUnread = 0
        }

        if growingUnread >= Self.stalledReadingSnapshots {
            liveness = .readingStalled
        } else if queued, !requested, let lastRequestAt, lastRequestAt.duration(to: now) > longestQuietDelivery {
            liveness = .deliveryStalled
        } else if read || delivered || requested {
            liveness = .progressing
        } else if queued {
            liveness = .waitingForDelivery
        } else {
            liveness = .idle
        }
        previous = snapshot
        previousAt = now
    }

    /// Whether deliveries have failed for longer than `unhealthy_after` as of `now`; when they
    /// have, the reason, in one sentence.
    public func unhealthyReason(at now: ContinuousClock.Instant) -> String? {
        guard let failingSince, failingSince.duration(to: now) > unhealthyAfter else { return nil }
        let seconds = failingSince.duration(to: now).components.seconds
        return "no operation delivered for \(seconds) s while operations are queued"
    }

    /// The `STATUS=` line: `Following 2 files; 1250 lines/s; queue 12 KB; last delivery 3 s ago`.
    public func statusLine(wallTime: Double) -> String {
        let files = previous?.files.followed ?? 0
        let queue = previous?.delivery.queueBytes ?? 0
        var line = "Following \(files) file\(files == 1 ? "" : "s"); "
        line += "\(Int(linesPerSecond.rounded())) lines/s; queue \(Self.bytes(queue)); "
        if let lastSuccess {
            line += "last delivery \(max(0, Int(wallTime - lastSuccess))) s ago"
        } else {
            line += "no delivery yet"
        }
        if !liveness.isAlive { line += "; \(liveness.rawValue)" }
        return line
    }

    /// `512 B`, `12 KB`, `3.4 MB`.
    static func bytes(_ count: Int) -> String {
        if count < 1_000 { return "\(count) B" }
        if count < 1_000_000 { return "\(count / 1_000) KB" }
        let tenths = count / 100_000
        return "\(tenths / 10).\(tenths % 10) MB"
    }
}
