import ArgumentParser
import TailTrack

@main
struct TailTrackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tailtrack",
        abstract: "Turns log lines into Customer.io Track API v2 events and profile updates.",
        discussion: """
            tailtrack follows log files (through rotation, into rotated .gz files), maps matching lines \
            by rules to Track API v2 operations and posts them in batches to /api/v2/batch, saving file \
            positions so that a restart, a crash or an outage loses nothing.
            """,
        subcommands: [
            RunCommand.self, CheckCommand.self, TestCommand.self, DryRunCommand.self, StatusCommand.self,
            DeadLettersCommand.self, BenchCommand.self, DiscoverCommand.self,
        ]
    )

    /// Limits malloc to one arena before any thread starts (``MallocArenas``), gives back the
    /// code pages loading the libraries touched (``StartupCodePages``), then runs the command
    /// line.
    static func main() async {
        MallocArenas.limit()
        // The libraries' set-up leaves ~16 MB of their code resident before `main`; kept, the
        // command-line parser's and the config parser's code would come on top of it.
        StartupCodePages.release()
        await main(nil)
    }
}

/// The `--config FILE` option every subcommand takes.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config file.", valueName: "FILE"))
    var config: String
}
