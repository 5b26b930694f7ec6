import ArgumentParser

@main
struct TailTrackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tailtrack",
        abstract: "Turns log lines into Customer.io Track API v2 events and profile updates.",
        subcommands: []
    )
}
