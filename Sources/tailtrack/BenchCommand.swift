import ArgumentParser
import Glibc
import TailTrack

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput, CPU and memory on a generated log set, against wc, grep and gzip.",
        discussion: """
            Generates the logs, times each stage in this process, then runs `tailtrack run` on them \
            (a child process) sending to an HTTP sink on 127.0.0.1 in this process. Build with \
            `swift build -c release` for meaningful figures.
            """
    )

    @Option(help: "Lines to generate.") var lines = 2_000_000
    @Option(help: "Bytes per line, newline included (at least 98).") var lineBytes = 100
    @Option(help: "Share of lines the benchmark rule matches, 0 to 1.") var matchRatio = 0.25
    @Option(help: "Followed files of the idle pass (0 skips it).") var idleFiles = 200
    @Option(help: "Seconds the idle pass measures.") var idleSeconds = 10.0
    @Option(help: "Followed files of the many-files pass (0 skips it).") var manyFiles = 10_000
    @Option(help: "Of those, files written to during the many-files pass.") var activeFiles = 100
    @Option(help: "Lines a second appended to each active file.") var writesPerSecond = 10
    @Option(help: "Seconds the many-files pass measures.") var manySeconds = 10.0
    @Option(help: "Seconds the stalled-endpoint pass appends to its log (0 skips it).") var stalledSeconds = 15.0
    @Option(help: "MB (10^6 bytes) a second appended during the stalled-endpoint pass.")
    var stalledMbPerSecond = 16.0
    @Option(help: ArgumentHelp("Keep the generated files in this folder.", valueName: "DIR")) var directory: String?
    @Flag(help: "Skip the end-to-end and idle passes (stages and baselines only).") var stagesOnly = false
    @Flag(help: "Skip the .gz file and its passes.") var noGzip = false
    @Flag(help: "Print the report as JSON.") var json = false
    @Option(
        help: ArgumentHelp(
            "Run this executable as the agent instead of this one (another build, or a wrapper under a profiler).",
            valueName: "PATH"))
    var agent: String?

    func run() async throws {
        var options = Benchmark.Options()
        options.lines = lines
        options.lineBytes = lineBytes
        options.matchRatio = matchRatio
        options.idleFiles = idleFiles
        options.idleSeconds = idleSeconds
        options.manyFiles = manyFiles
        options.activeFiles = activeFiles
        options.manyWritesPerSecond = max(1, writesPerSecond)
        options.manySeconds = manySeconds
        options.stalledSeconds = stalledSeconds
        options.stalledBytesPerSecond = max(1, Int(stalledMbPerSecond * 1e6))
        options.directory = directory
        options.gzip = !noGzip
        options.agentExecutable = stagesOnly ? nil : agent ?? Self.ownExecutable()
        let benchmark = Benchmark(options: options) { Output.err("bench: \($0)") }
        do {
            let report = try await benchmark.run()
            Output.out(json ? try report.json() : report.text)
        } catch {
            Output.err("bench failed: \(error)")
            throw ExitCode(1)
        }
    }

    /// This executable's path, to run `tailtrack run` from the same build.
    static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
