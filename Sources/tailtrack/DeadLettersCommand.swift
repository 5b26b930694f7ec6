import ArgumentParser
import Logging
import TailTrack

struct DeadLettersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "Work with rejected operations (state_dir/dead-letter.jsonl).",
        subcommands: [DeadLettersReplayCommand.self]
    )
}

struct DeadLettersReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Resend dead-lettered operations (after a rules fix); what still fails stays in the file.",
        discussion: "Run it while the agent is stopped: the agent appends to the file that replay rewrites."
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let report = ConfigCheck.load(
            path: options.config, environment: ProcessEnvironment.current(), requireCredentials: true)
        guard let config = report.config, report.isValid else {
            for problem in report.problems { Output.err(problem) }
            throw ExitCode(1)
        }
        let logger = Logger(label: "tailtrack.replay")
        let client: TrackClient
        do {
            client = try TrackClient(settings: config.track, logger: logger)
        } catch {
            Output.err("\(error)")
            throw ExitCode(1)
        }
        let replay = DeadLetterReplay(
            stateDirectory: config.stateDirectory,
            deadLetter: config.deadLetter,
            batch: config.batch,
            client: client
        )
        do {
            let summary = try await replay.run()
            await client.shutdown()
            Output.out("read \(summary.read), accepted \(summary.accepted), still rejected \(summary.remaining)")
            if let stopped = summary.stoppedBy {
                Output.err("stopped early: \(stopped)")
                throw ExitCode(1)
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            await client.shutdown()
            Output.err("\(error)")
            throw ExitCode(1)
        }
    }
}
