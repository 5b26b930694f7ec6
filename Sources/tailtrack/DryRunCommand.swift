import ArgumentParser
import TailTrack

struct DryRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dry-run",
        abstract: "Print the operations the rules make of log files (plain or .gz) or stdin; send and save nothing.",
        discussion: "Operations go to stdout as JSON lines; rejected operations and a per-rule summary go to stderr."
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "Offer the lines as this source (default: the source whose paths match the file, else every rule).")
    var source: String?

    @Argument(help: ArgumentHelp("Log files to read; stdin when none is given.", valueName: "LOGFILE"))
    var files: [String] = []

    func run() throws {
        let report = ConfigCheck.load(
            path: options.config, environment: ProcessEnvironment.current(), requireCredentials: false)
        guard let config = report.config, let ruleSet = report.ruleSet, report.isValid else {
            for problem in report.problems { Output.err(problem) }
            throw ExitCode(1)
        }
        if let source, !config.sources.contains(where: { $0.name == source }) {
            Output.err("--source \(source): no source of that name in \(options.config)")
            throw ExitCode(1)
        }
        var stdout = BufferedStandardOutput()
        let dryRun = DryRun(config: config, ruleSet: ruleSet, source: source)
        do {
            let summary = try dryRun.run(
                paths: files,
                output: { stdout.write($0) },
                diagnostics: { Output.err($0) }
            )
            stdout.flush()
            Output.err(summary.text)
        } catch {
            stdout.flush()
            Output.err("error: \(error)")
            throw ExitCode(1)
        }
    }
}
