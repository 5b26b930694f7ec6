import ArgumentParser
import Logging
import TailTrack

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per followed file: path, identity, committed offset, size, bytes behind."
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        let report = ConfigCheck.load(
            path: options.config, environment: ProcessEnvironment.current(), requireCredentials: false)
        guard let config = report.config else {
            for problem in report.problems { Output.err(problem) }
            throw ExitCode(1)
        }
        let logger = Logger(label: "tailtrack.status")
        let files: [TailedFileStatus]
        do {
            files = try Tailer.offlineStatus(
                stateDirectory: config.stateDirectory, sources: config.sources, logger: logger)
        } catch {
            Output.err("\(error)")
            throw ExitCode(1)
        }
        let rows =
            [["SOURCE", "PATH", "IDENTITY", "OFFSET", "SIZE", "BEHIND", "STATE"]]
            + files.map { file in
                [
                    file.source, file.path, "\(file.identity)", "\(file.committedOffset)", "\(file.size)",
                    file.bytesBehind.map { "\($0)" } ?? "-", file.state,
                ]
            }
        let widths = (0..<7).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            Output.out(cells.joined(separator: "  "))
        }
        if files.isEmpty {
            Output.err("no saved positions in \(config.stateDirectory) and no matched files")
        }
    }
}
