import Glibc
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization

/// Watches the running pipeline: polls the stages' snapshots into metrics, serves them (and
/// `/healthz`) when `metrics.listen` is set, and keeps systemd informed: `READY=1` once the
/// sources are open, `STATUS=` lines, `WATCHDOG=1` while ``PipelineHealth`` says the pipeline
/// is alive, and `STOPPING=1` when graceful shutdown begins.
///
/// It only reads snapshots, so the hot paths pay nothing for it. It belongs last in the
/// `ServiceGroup`: shutdown then reaches it first and `STOPPING=1` goes out before delivery
/// drains.
public final class MetricsService: Service, Sendable {
    /// Gathers the counters of every stage.
    public typealias Probe = @Sendable () async -> PipelineSnapshot

    private let settings: MetricsSettings
    private let notifier: SystemdNotifier
    private let probe: Probe
    private let isReady: @Sendable () async -> Bool
    private let logger: Logger
    private let registry = PrometheusCollectorRegistry()
    private let metrics: PipelineMetrics
    private let health: Mutex<PipelineHealth>
    private let interval: Duration
    private let boundAddress = Mutex<String?>(nil)

    /// - Parameters:
    ///   - probe: the current snapshot of every stage.
    ///   - isReady: whether the sources are open (the tailer's first scan is done).
    ///   - interval: how often snapshots are taken; shortened to a quarter of the watchdog
    ///     timeout when systemd asks for pings more often.
    public init(
        config: TailTrackConfig, notifier: SystemdNotifier, logger: Logger, interval: Duration = .seconds(1),
        isReady: @escaping @Sendable () async -> Bool, probe: @escaping Probe
    ) {
        self.settings = config.metrics
        self.notifier = notifier
        self.probe = probe
        self.isReady = isReady
        self.logger = logger
        self.metrics = PipelineMetrics(factory: PrometheusMetricsFactory(registry: registry))
        let quiet = max(config.retry.authBackoff, config.retry.maxBackoff) + config.batch.flushInterval + .seconds(30)
        self.health = Mutex(
            PipelineHealth(
                unhealthyAfter: config.metrics.unhealthyAfter, longestQuietDelivery: quiet,
                queueCapacity: config.batch.queueBytes))
        if let watchdog = notifier.watchdogInterval {
            self.interval = min(interval, watchdog / 2)
        } else {
            self.interval = interval
        }
    }

    /// The metrics endpoint's address once it listens (`host:port`, the real port when the
    /// config said 0).
    public var metricsAddress: String? { boundAddress.withLock { $0 } }

    public func run() async throws {
        var server: MetricsHTTPServer?
        if let listen = settings.listen, let (host, port) = MetricsHTTPServer.split(listen: listen) {
            do {
                let started = try await MetricsHTTPServer.start(host: host, port: port) { [self] path in
                    respond(to: path)
                }
                boundAddress.withLock { $0 = started.boundAddress }
                logger.info("Serving metrics", metadata: ["metrics.address": "\(started.boundAddress)"])
                server = started
            } catch {
                throw ServiceError(description: "cannot listen for metrics on \(listen): \(error)")
            }
        }
        await withGracefulShutdownHandler {
            await watch()
        } onGracefulShutdown: { [notifier] in
            notifier.stopping()
            // Stopping runs code of its own (the drain, the last save): the pipeline's code
            // is given back first, so the two are not resident together.
            StartupCodePages.release()
        }
        await server?.close()
    }

    /// Waits for the sources to open, says READY, then takes a snapshot every interval.
    private func watch() async {
        while !(await isReady()) {
            guard (try? await Task.sleep(for: .milliseconds(20))) != nil, !Task.isShuttingDownGracefully else { return }
        }
        await tick()
        notifier.ready(status: statusLine())
        StartupCodePages.release()
        var lastPing = ContinuousClock.now
        var lastStatus = ContinuousClock.now
        // Once more a second after READY (the first requests' set-up ran by then: ~4 MB),
        // then every minute, so that a long-running agent holds the code it still runs.
        var nextRelease = ContinuousClock.now + .seconds(1)
        if notifier.watchdogInterval != nil { notifier.watchdog() }
        while (try? await Task.sleep(for: interval)) != nil, !Task.isShuttingDownGracefully {
            let alive = await tick()
            let now = ContinuousClock.now
            if now >= nextRelease {
                StartupCodePages.release()
                nextRelease = now + StartupCodePages.interval
            }
            if let watchdog = notifier.watchdogInterval, alive, lastPing.duration(to: now) >= watchdog - interval {
                notifier.watchdog()
                lastPing = now
            }
            if lastStatus.duration(to: now) >= .seconds(5) {
                notifier.status(statusLine())
                lastStatus = now
            }
        }
    }

    /// Takes one snapshot into the health judgement and the metrics; returns whether the
    /// pipeline is alive.
    @discardableResult
    func tick() async -> Bool {
        let snapshot = await probe()
        let now = ContinuousClock.now
        let wallTime = Self.wallTime()
        let (liveness, lastSuccess, unhealthy) = health.withLock { health in
            let before = health.liveness
            health.record(snapshot, at: now, wallTime: wallTime)
            if before.isAlive, !health.liveness.isAlive {
                logger.error(
                    "Pipeline stalled; the watchdog is no longer fed",
                    metadata: ["pipeline.state": "\(health.liveness.rawValue)"])
            }
            return (health.liveness, health.lastSuccess, health.unhealthyReason(at: now))
        }
        metrics.update(snapshot, lastSuccess: lastSuccess, healthy: unhealthy == nil)
        return liveness.isAlive
    }

    /// The `STATUS=` text now.
    func statusLine() -> String {
        let wallTime = Self.wallTime()
        return health.withLock { $0.statusLine(wallTime: wallTime) }
    }

    /// Answers the metrics endpoint.
    func respond(to path: String) -> MetricsHTTPServer.Response {
        switch path {
        case "/metrics":
            return .init(
                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: registry.emitToBuffer())
        case "/healthz":
            let reason = health.withLock { $0.unhealthyReason(at: .now) }
            if let reason { return .init(status: 503, body: Array("unhealthy: \(reason)\n".utf8)) }
            return .init(status: 200, body: Array("ok\n".utf8))
        default:
            return .init(status: 404, body: Array("not found; try /metrics or /healthz\n".utf8))
        }
    }

    private static func wallTime() -> Double { UnixClockTime.now }
}

/// A failure of one of the agent's own services, in one sentence.
public struct ServiceError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Unix time in seconds, from `clock_gettime(CLOCK_REALTIME)`.
enum UnixClockTime {
    static var now: Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
