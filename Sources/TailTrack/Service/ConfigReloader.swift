import Glibc
import Logging
import ServiceLifecycle
import UnixSignals

/// Applies a new config on SIGHUP, atomically: the file is loaded and checked exactly as
/// `tailtrack check` does, and only a config that passes replaces the running rules (at a chunk
/// boundary) and log level. One that fails is logged with every error and the running rules
/// stay in force.
///
/// What reloads: `rules:` (inline and included files) and `log_level`. Everything else
/// (sources, track, batch, tail, state_dir, output, metrics) takes effect at the next restart;
/// a reload that changes any of those says so in the log.
final class ConfigReloader: Sendable {
    private let running: TailTrackConfig
    private let rules: RuleStage
    private let logLevel: LogLevelControl?
    private let notifier: SystemdNotifier
    private let environment: @Sendable () -> [String: String]
    private let logger: Logger

    init(
        running: TailTrackConfig, rules: RuleStage, logLevel: LogLevelControl?, notifier: SystemdNotifier,
        environment: @escaping @Sendable () -> [String: String], logger: Logger
    ) {
        self.running = running
        self.rules = rules
        self.logLevel = logLevel
        self.notifier = notifier
        self.environment = environment
        self.logger = logger
    }

    /// Reloads `running.file`. Returns whether the new rules are in force.
    @discardableResult
    func reload() -> Bool {
        notifier.reloading()
        logger.notice("Reloading config", metadata: ["config.file": "\(running.file)"])
        let report = ConfigCheck.load(path: running.file, environment: environment(), requireCredentials: true)
        guard report.isValid, let config = report.config, let ruleSet = report.ruleSet else {
            logger.error(
                "Reload rejected; the running config and rules stay in force",
                metadata: [
                    "config.file": "\(running.file)", "error.count": "\(report.problems.count)",
                    "errors": "\(report.problems.joined(separator: " | "))",
                ])
            notifier.ready(
                status: "Reload rejected: \(report.problems.count) error(s) in \(running.file); previous rules kept")
            return false
        }
        rules.replace(with: ruleSet)
        if let logLevel, let level = Logger.Level(rawValue: config.logLevel) { logLevel.current = level }
        let pending = Self.settingsNeedingRestart(running: running, new: config)
        if !pending.isEmpty {
            logger.warning(
                "Some changed settings take effect only at the next restart",
                metadata: ["settings": "\(pending.joined(separator: ","))"])
        }
        logger.notice(
            "Reloaded config", metadata: ["rules": "\(ruleSet.rules.count)", "log.level": "\(config.logLevel)"])
        notifier.ready(status: "Reloaded: \(ruleSet.rules.count) rule\(ruleSet.rules.count == 1 ? "" : "s")")
        return true
    }

    /// The top-level keys whose change a reload does not apply.
    static func settingsNeedingRestart(running: TailTrackConfig, new: TailTrackConfig) -> [String] {
        var changed: [String] = []
        let sources = { (config: TailTrackConfig) in
            config.sources.map {
                "\($0.name)|\($0.paths)|\($0.exclude)|\($0.startAt)|\($0.backfillRotated)|\($0.rotatedDirectory ?? "")"
            }
        }
        if sources(running) != sources(new) { changed.append("sources") }
        if running.track.baseURL != new.track.baseURL || running.track.siteID != new.track.siteID {
            changed.append("track")
        }
        if running.stateDirectory != new.stateDirectory { changed.append("state_dir") }
        if running.output != new.output { changed.append("output") }
        if running.metrics.listen != new.metrics.listen { changed.append("metrics") }
        return changed
    }
}

/// Waits for SIGHUP and reloads, until graceful shutdown.
struct ReloadService: Service {
    let signals: UnixSignalsSequence
    let reloader: ConfigReloader

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                reloader.reload()
            }
        }
    }
}

/// The process environment now (for `${VAR}` in a reloaded config).
public enum ProcessEnvironment {
    /// Every variable of the process environment.
    @Sendable public static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
