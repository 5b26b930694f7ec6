import Glibc
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The daemon: inputs → rules → output, with positions saved as deliveries are acknowledged.
///
/// Runs the stages as services of one `ServiceGroup`: the checkpoint first, then delivery,
/// then the inputs, so that SIGTERM or SIGINT stops reading first, then lets delivery flush
/// what is queued (within `shutdown_timeout`), then saves the positions: whatever was not
/// delivered is simply read again at the next start. See ARCHITECTURE.md for the whole flow.
public struct Agent: Sendable {
    public let config: TailTrackConfig
    public let ruleSet: RuleSet
    public let logger: Logger
    /// The level the process's log handlers read; a reload sets it from `log_level`.
    public var logLevel: LogLevelControl?
    /// systemd's notify socket (does nothing when not started by systemd).
    public var notifier: SystemdNotifier
    /// The environment `${VAR}`s of a reloaded config are read from.
    public var environment: @Sendable () -> [String: String]

    public init(
        config: TailTrackConfig, ruleSet: RuleSet, logger: Logger, logLevel: LogLevelControl? = nil,
        notifier: SystemdNotifier = SystemdNotifier(environment: [:]),
        environment: @escaping @Sendable () -> [String: String] = ProcessEnvironment.current
    ) {
        self.config = config
        self.ruleSet = ruleSet
        self.logger = logger
        self.logLevel = logLevel
        self.notifier = notifier
        self.environment = environment
    }

    /// Runs until SIGTERM or SIGINT (or until the task is cancelled), then saves positions.
    public func run() async throws {
        // Each followed file holds a descriptor: systemd's soft limit of 1024 would cap the
        // agent near a thousand files, far below what the hard limit allows.
        let limit = OpenFileLimit.raiseToHardLimit()
        if limit.after != limit.before {
            logger.debug(
                "Raised the open-file limit to the hard limit",
                metadata: ["limit.before": "\(limit.before)", "limit.after": "\(limit.after)"])
        }
        let checkpoint = try CheckpointStore(stateDirectory: config.stateDirectory, logger: logger)
        let saver = CheckpointService(store: checkpoint, logger: logger)
        let router = InputRouter()
        let acknowledge: @Sendable (FileKey, UInt64) async -> Void = { file, offset in
            await router.acknowledge([Acknowledgement(file: file, endOffset: offset)])
        }
        let sink: any OperationSink
        let deliveryStats: @Sendable () async -> DeliveryStats
        var client: TrackClient?
        switch config.output {
        case .file(let path):
            let fileSink = FileOutputSink(
                path: path,
                stateDirectory: config.stateDirectory,
                deadLetter: config.deadLetter,
                logger: logger,
                acknowledge: acknowledge
            )
            sink = fileSink
            deliveryStats = { await fileSink.statistics() }
        case .track:
            let trackClient = try TrackClient(settings: config.track, logger: logger)
            client = trackClient
            let batcher = Batcher(
                config: config, client: trackClient, logger: logger,
                acknowledgeAll: { acknowledgements in await router.acknowledge(acknowledgements) })
            sink = batcher
            deliveryStats = { await batcher.statistics() }
        }
        let rules = RuleStage(ruleSet: ruleSet)
        // The code that only starting up ran (the service group, the HTTP client's set-up) is
        // given back before the first scan builds a state for every file, and the scan's own
        // once the files are open, before reading begins: otherwise each stays resident
        // alongside the next until READY, and with 10,000 files that is the agent's peak RSS.
        let tailer = Tailer(
            config: config, checkpoint: checkpoint, logger: logger,
            beforeFirstScan: { StartupCodePages.release() },
            sourcesOpened: { StartupCodePages.release() }
        ) { (chunks: [LineChunk]) in
            await sink.submit(chunks.map { rules.process($0) })
        }
        router.attach([tailer])
        let reloader = ConfigReloader(
            running: config, rules: rules, logLevel: logLevel, notifier: notifier, environment: environment,
            logger: logger)
        let monitor = MetricsService(
            config: config, notifier: notifier, logger: logger,
            isReady: { await tailer.hasOpenedSources() },
            probe: {
                PipelineSnapshot(
                    rules: rules.statistics(), delivery: await deliveryStats(),
                    files: await tailer.summary(),
                    lostBytes: await tailer.lostBytes(),
                    checkpointSaveFailures: saver.saveFailures())
            })

        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: saver),
                    .init(
                        service: DeliveryService(sink: sink, shutdownTimeout: config.shutdownTimeout, logger: logger)),
                    .init(service: InputService(input: tailer)),
                    .init(
                        service: ReloadService(
                            signals: await UnixSignalsSequence(trapping: .sighup), reloader: reloader)),
                    .init(service: monitor),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        logger.info("Started", metadata: ["sources": "\(config.sources.count)", "rules": "\(ruleSet.rules.count)"])
        do {
            try await group.run()
        } catch {
            await client?.shutdown()
            throw error
        }
        await client?.shutdown()
        logger.info("Stopped; positions saved")
    }
}

/// Carries the output's acknowledgements back to the inputs that produced the lines: each
/// input owns a range of ``FileKey``s (``InputKeySpace``). Inputs are attached once made,
/// after the output (which needs the router to acknowledge through).
final class InputRouter: Sendable {
    private let inputs = Mutex<[any LineInput]>([])

    func attach(_ inputs: [any LineInput]) {
        self.inputs.withLock { $0 = inputs }
    }

    func acknowledge(_ acknowledgements: [Acknowledgement]) async {
        let inputs = self.inputs.withLock { $0 }
        guard inputs.count > 1 else {
            await inputs.first?.acknowledge(acknowledgements)
            return
        }
        var byInput: [Int: [Acknowledgement]] = [:]
        for acknowledgement in acknowledgements {
            byInput[InputKeySpace.input(of: acknowledgement.file), default: []].append(acknowledgement)
        }
        for (index, part) in byInput where index < inputs.count {
            await inputs[index].acknowledge(part)
        }
    }
}

/// An input as a service: reads until graceful shutdown.
struct InputService: Service {
    let input: any LineInput

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await input.run()
            }
        } catch is CancellationError {
            // A read cancelled by the shutdown itself (the thread pool throws it when the
            // cancellation lands before the read began): stopping is what was asked for, so
            // SIGTERM still exits 0.
        }
    }
}

/// Delivery as a service: runs until graceful shutdown, then flushes what is queued.
///
/// A failure of the sink's loop ends the service with that error (the group then stops the
/// agent, which saves positions and exits non-zero) instead of leaving the agent reading
/// with nothing delivering.
struct DeliveryService: Service {
    let sink: any OperationSink
    let shutdownTimeout: Duration
    let logger: Logger

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sink.run() }
            group.addTask {
                try? await gracefulShutdown()
                let drained = await sink.drain(timeout: shutdownTimeout)
                if !drained {
                    logger.warning(
                        "Shutdown timeout reached with operations still queued; they are read again at the next start")
                }
            }
            // The first to finish: the drain after shutdown, or the sink's loop (a thrown error
            // propagates from here).
            try await group.next()
            group.cancelAll()
            do {
                try await group.waitForAll()
            } catch is CancellationError {
                // Stopping the loop is what was asked for.
            }
        }
    }
}
