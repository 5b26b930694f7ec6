import ArgumentParser
import Logging
import TailTrack

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: follow the sources, send operations, save positions. Logs to stderr.",
        discussion: """
            Exits 0 on SIGTERM or SIGINT after flushing what is queued and saving positions. SIGHUP \
            reloads the rules and log_level (a config that fails `tailtrack check` is rejected and the \
            running rules kept). Under systemd (Type=notify) it reports READY, STATUS, RELOADING, \
            STOPPING and watchdog pings on $NOTIFY_SOCKET, and logs with journald priorities.
            """
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        // Each start-up phase's code is given back before the next one runs: the agent's peak
        // RSS when it follows few files is then one phase's code, not all of them together.
        StartupCodePages.release()
        let environment = ProcessEnvironment.current()
        let report = ConfigCheck.load(path: options.config, environment: environment, requireCredentials: true)
        guard let config = report.config, let ruleSet = report.ruleSet, report.isValid else {
            for problem in report.problems { Output.err(problem) }
            throw ExitCode(1)
        }
        StartupCodePages.release()
        let level = LogLevelControl(Logger.Level(rawValue: config.logLevel) ?? .info)
        let journal = JournalLogHandler.isJournalStream(environment: environment)
        LoggingSystem.bootstrap { label in
            JournalLogHandler(label: label, control: level, journal: journal)
        }
        let logger = Logger(label: "tailtrack")
        let agent = Agent(
            config: config, ruleSet: ruleSet, logger: logger, logLevel: level,
            notifier: SystemdNotifier(environment: environment))
        // The config parser's and the command line's code is done with.
        StartupCodePages.release()
        do {
            try await agent.run()
        } catch {
            logger.critical("Stopped by an error", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
