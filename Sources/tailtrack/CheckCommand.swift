import ArgumentParser
import TailTrack

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the config and its rules; print every error with file, line and rule; exit 1 on any."
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        let report = ConfigCheck.load(
            path: options.config, environment: ProcessEnvironment.current(), requireCredentials: true)
        for problem in report.problems {
            Output.err(problem)
        }
        guard report.isValid else {
            Output.err("\(report.problems.count) error\(report.problems.count == 1 ? "" : "s") in \(options.config)")
            throw ExitCode(1)
        }
        // Warnings leave the rules usable: printed, but the exit status stays 0.
        for warning in report.ruleSet?.warnings ?? [] {
            Output.err(warning.warningDescription)
        }
        Output.out(report.summary)
    }
}
