import ArgumentParser
import Logging
import TailTrack

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: follow the sources, send operations, save positions. Logs to stderr.",
        discussion: "Exits 0 on SIGTERM or SIGINT after flushing what is queued and saving positions."
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let report = ConfigCheck.load(path: options.config, environment: processEnvironment(), requireCredentials: true)
        guard let config = report.config, let ruleSet = report.ruleSet, report.isValid else {
            for problem in report.problems { Output.err(problem) }
            throw ExitCode(1)
        }
        let level = Logger.Level(rawValue: config.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tailtrack")
        do {
            try await Agent(config: config, ruleSet: ruleSet, logger: logger).run()
        } catch {
            logger.critical("Stopped by an error", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
