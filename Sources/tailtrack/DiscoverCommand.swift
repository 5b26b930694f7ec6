import ArgumentParser
import Glibc
import TailTrack

/// `tailtrack discover`: which line shapes a log holds, and starter rules for them.
struct DiscoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "Group the lines of log files (plain or .gz) into templates; print them, or write starter rules.",
        discussion: """
            No header format is needed: timestamps, levels, pids and components at the start of a \
            line are found. JSON and logfmt lines are grouped by their keys and their msg/event/level \
            values. --assign prints one template id per input line and nothing else.
            """
    )

    @Option(help: ArgumentHelp("A config file, for --source.", valueName: "FILE"))
    var config: String?

    @Option(help: "Name this source in the written rules (and, with --config and no LOGFILE, read its paths).")
    var source: String?

    @Option(help: "How many templates to print or write, most frequent first.")
    var top: Int = 20

    @Flag(help: "Print one JSON object per template (id, template, count, examples, slots, rule).")
    var json = false

    @Option(help: ArgumentHelp("Write starter rules for the top templates to this file.", valueName: "FILE"))
    var rulesOut: String?

    @Flag(help: "Print only the template id of each input line, one per line, in order.")
    var assign = false

    @Argument(help: ArgumentHelp("Log files to read; stdin when none is given.", valueName: "LOGFILE"))
    var files: [String] = []

    func run() throws {
        let paths = try inputPaths()
        var stdout = BufferedStandardOutput()
        if assign {
            do {
                try Discovery.assign(paths: paths) { stdout.write($0) }
            } catch {
                stdout.flush()
                Output.err("error: \(error)")
                throw ExitCode(1)
            }
            stdout.flush()
            return
        }
        let discovery = Discovery()
        do {
            try discovery.read(paths: paths)
        } catch {
            Output.err("error: \(error)")
            throw ExitCode(1)
        }
        if let rulesOut {
            let origin = paths.map { $0 == "-" ? "standard input" : $0 }.joined(separator: ", ")
            let text = StarterRules.yaml(for: discovery.templates(top: top), source: source, origin: origin)
            guard let file = fopen(rulesOut, "w") else {
                Output.err("error: \(rulesOut): \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
            let written = fputs(text, file)
            let closed = fclose(file)
            guard written >= 0, closed == 0 else {
                Output.err("error: \(rulesOut): \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
            Output.err("wrote \(min(top, discovery.templates().count)) rules to \(rulesOut)")
        }
        if json {
            stdout.write(discovery.jsonReport(top: top, source: source))
            stdout.flush()
        } else if rulesOut == nil {
            Output.write(discovery.textReport(top: top), to: STDOUT_FILENO)
        }
    }

    /// The files named, or with `--config` and `--source` and none named, the source's paths.
    private func inputPaths() throws -> [String] {
        guard files.isEmpty else { return files }
        guard let config, let source else { return ["-"] }
        let report = ConfigCheck.load(
            path: config, environment: ProcessEnvironment.current(), requireCredentials: false)
        guard let loaded = report.config else {
            for problem in report.problems { Output.err(problem) }
            throw ExitCode(1)
        }
        guard let found = loaded.sources.first(where: { $0.name == source }) else {
            Output.err("--source \(source): no source of that name in \(config)")
            throw ExitCode(1)
        }
        var paths: [String] = []
        for pattern in found.paths {
            var matches = glob_t()
            defer { globfree(&matches) }
            guard glob(pattern, 0, nil, &matches) == 0 else { continue }
            for index in 0..<Int(matches.gl_pathc) {
                if let path = matches.gl_pathv[index] { paths.append(String(cString: path)) }
            }
        }
        guard !paths.isEmpty else {
            Output.err("--source \(source): no file matches its paths")
            throw ExitCode(1)
        }
        return paths
    }
}
