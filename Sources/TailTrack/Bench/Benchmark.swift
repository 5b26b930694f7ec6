import Foundation

/// `tailtrack bench`: generates a log set, times each stage in this process, times the
/// machine's own tools on the same files, then runs the real agent (`tailtrack run`, a child
/// process, so its CPU time and peak RSS are its own) against an in-process HTTP sink.
public struct Benchmark: Sendable {
    public struct Options: Sendable {
        public var lines = 2_000_000
        public var lineBytes = 100
        public var matchRatio = 0.25
        /// Where files go; a new folder under the temp dir (removed afterwards) when `nil`.
        public var directory: String?
        /// The `tailtrack` executable run for the end-to-end and idle passes; `nil` skips them.
        public var agentExecutable: String?
        public var baselines = true
        public var gzip = true
        /// Followed files of the idle pass; 0 skips it.
        public var idleFiles = 200
        public var idleSeconds = 10.0
        /// Followed files of the many-files pass; 0 skips it.
        public var manyFiles = 10_000
        /// Of those, the files written to, each `manyWritesPerSecond` times a second.
        public var activeFiles = 100
        public var manyWritesPerSecond = 10
        public var manySeconds = 10.0
        /// Seconds the stalled-endpoint pass appends to its log; 0 skips it.
        public var stalledSeconds = 15.0
        /// Bytes a second appended during the stalled-endpoint pass.
        public var stalledBytesPerSecond = 16_000_000
        /// Longest wait for an end-to-end run.
        public var timeout: Duration = .seconds(600)

        public init() {}
    }

    public let options: Options
    /// Progress messages (to stderr in the command).
    let progress: @Sendable (String) -> Void

    public init(options: Options, progress: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.progress = progress
    }

    public func run() async throws -> BenchReport {
        let directory: String
        let temporary = options.directory == nil
        if let given = options.directory {
            directory = given
        } else {
            var template = Array((NSTemporaryDirectory() + "/tailtrack-bench.XXXXXX").utf8CString)
            let made: String? = template.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
                return String(cString: base)
            }
            guard let made else { throw BenchError("cannot create a folder in \(NSTemporaryDirectory())") }
            directory = made
        }
        defer {
            if temporary { try? FileManager.default.removeItem(atPath: directory) }
        }
        let workload = BenchWorkload(directory: directory)
        for folder in ["plain", "gz", "state", "idle"] {
            try FileManager.default.createDirectory(
                atPath: directory + "/" + folder, withIntermediateDirectories: true)
        }

        let generator = BenchLogGenerator(
            lines: options.lines, lineBytes: options.lineBytes, matchRatio: options.matchRatio)
        progress("generating \(generator.lines) lines in \(directory)")
        try generator.write(plainPath: workload.plainPath, gzipPath: options.gzip ? workload.gzipPath : nil)
        if options.gzip {
            _ = FileManager.default.createFile(atPath: workload.gzipLivePath, contents: nil)
        }
        let plainBytes = generator.lines * generator.lineBytes
        let gzipBytes = options.gzip ? Self.size(of: workload.gzipPath) : 0
        var report = BenchReport(
            workload: .init(
                lines: generator.lines, lineBytes: generator.lineBytes, matchRatio: generator.matchRatio,
                expectedOperations: generator.matchingLines, plainBytes: plainBytes, gzipBytes: gzipBytes,
                directory: directory))

        let configPath = directory + "/stages.yml"
        try workload.configYAML(source: "plain", url: "http://127.0.0.1:1").write(
            toFile: configPath, atomically: true, encoding: .utf8)
        let loaded = ConfigCheck.load(path: configPath, environment: [:], requireCredentials: false)
        guard let config = loaded.config, let ruleSet = loaded.ruleSet, loaded.isValid else {
            throw BenchError("the benchmark's own config is invalid: \(loaded.problems.joined(separator: "; "))")
        }

        progress("timing the stages")
        let stages = StageBenchmark(ruleSet: ruleSet, source: "plain", maxLineBytes: config.tail.maxLineBytes)
        var stageTimings = try stages.runPlain(path: workload.plainPath)
        if stageTimings.count == 3 {
            let match = stageTimings[1]
            let rules = stageTimings[2]
            stageTimings.insert(
                StageTiming(
                    name: "encode (derived)", seconds: max(0, rules.seconds - match.seconds),
                    cpuSeconds: max(0, rules.cpuSeconds - match.cpuSeconds), lines: rules.lines, bytes: rules.bytes,
                    operations: rules.operations), at: 2)
        }
        if options.gzip {
            stageTimings.append(try stages.runGzip(path: workload.gzipPath))
        }
        report.stages = stageTimings.map { timing in
            BenchReport.Figure(
                name: timing.name, command: "in process", seconds: timing.seconds, cpuSeconds: timing.cpuSeconds,
                lines: timing.lines, bytes: timing.bytes, operations: timing.operations)
        }

        if options.baselines {
            progress("timing wc, grep and gzip")
            report.baselines = try baselines(workload: workload, generator: generator, gzipBytes: gzipBytes)
        }
        let wc = report.baselines.first { $0.name == "wc -l" }
        let grep = report.baselines.first { $0.name == "grep -c" }
        let gunzip = report.baselines.first { $0.name == "gzip -dc" }
        for index in report.stages.indices {
            switch report.stages[index].name {
            case "read+split": report.stages[index].compare(with: wc)
            case "match", "match+encode", "encode (derived)": report.stages[index].compare(with: grep)
            case "gunzip+split": report.stages[index].compare(with: gunzip)
            default: break
            }
        }

        if let executable = options.agentExecutable {
            let sink = BenchSink()
            try await sink.start()
            do {
                let cpuBefore = Self.selfCPUSeconds()
                for source in options.gzip ? ["plain", "gz"] : ["plain"] {
                    progress("end to end: \(source)")
                    var (figure, linkage) = try await endToEnd(
                        source: source, executable: executable, workload: workload, generator: generator, sink: sink)
                    report.agentSwiftRuntime = report.agentSwiftRuntime ?? linkage
                    figure.compare(with: source == "gz" ? gunzip : grep)
                    report.endToEnd.append(figure)
                }
                report.sinkCPUSeconds = Self.selfCPUSeconds() - cpuBefore
                if options.idleFiles > 0 {
                    progress("idle: \(options.idleFiles) files for \(options.idleSeconds) s")
                    report.idle = try await idle(executable: executable, workload: workload, sink: sink)
                }
                if options.manyFiles > 0 {
                    let pass = ManyFilesPass(
                        files: options.manyFiles, active: options.activeFiles, seconds: options.manySeconds,
                        writesPerSecond: options.manyWritesPerSecond, directory: directory + "/many/logs",
                        stateDirectory: workload.stateDirectory)
                    report.manyFiles = try await pass.run(executable: executable, sink: sink, progress: progress)
                }
                if options.stalledSeconds > 0 {
                    let pass = StalledEndpointPass(
                        seconds: options.stalledSeconds, bytesPerSecond: options.stalledBytesPerSecond,
                        generator: generator, directory: directory + "/stalled/logs",
                        stateDirectory: workload.stateDirectory)
                    report.stalled = try await pass.run(executable: executable, sink: sink, progress: progress)
                }
            } catch {
                try? await sink.shutdown()
                throw error
            }
            try await sink.shutdown()
        }
        return report
    }

    /// `wc -l` and `grep -c` on the plain file, `gzip -dc` of the .gz.
    private func baselines(workload: BenchWorkload, generator: BenchLogGenerator, gzipBytes: Int) throws
        -> [BenchReport.Figure]
    {
        let plainBytes = generator.lines * generator.lineBytes
        var figures: [BenchReport.Figure] = []
        let commands: [(name: String, arguments: [String], operations: Int, codes: Set<Int32>)] =
            [
                ("wc -l", ["wc", "-l", workload.plainPath], 0, [0]),
                (
                    "grep -c", ["grep", "-c", "INFO checkout completed", workload.plainPath], generator.matchingLines,
                    [0, 1]
                ),
            ] + (options.gzip ? [("gzip -dc", ["gzip", "-dc", workload.gzipPath], 0, [0])] : [])
        for command in commands {
            let (seconds, usage) = try ChildProcess.time(
                command.arguments, stdoutPath: workload.directory + "/baseline.out", allowedExitCodes: command.codes)
            figures.append(
                BenchReport.Figure(
                    name: command.name, command: command.arguments.joined(separator: " ") + " > FILE",
                    seconds: seconds, cpuSeconds: usage.cpuSeconds, lines: generator.lines, bytes: plainBytes,
                    operations: command.operations))
        }
        return figures
    }

    /// Runs `tailtrack run` on one source until the sink has every expected operation; returns
    /// its figure and how the agent links the Swift runtime (``ChildProcess/swiftRuntimeLinkage``).
    private func endToEnd(
        source: String, executable: String, workload: BenchWorkload, generator: BenchLogGenerator, sink: BenchSink
    ) async throws -> (BenchReport.Figure, String?) {
        let configPath = workload.directory + "/\(source).yml"
        try? FileManager.default.removeItem(atPath: workload.stateDirectory + "/" + source)
        try workload.configYAML(source: source, url: sink.url).write(
            toFile: configPath, atomically: true, encoding: .utf8)
        let logPath = workload.directory + "/agent-\(source).log"
        sink.reset(expecting: generator.matchingLines)
        let arguments = [executable, "run", "--config", configPath]
        let start = ContinuousClock.now
        let child = try ChildProcess(arguments, stderrPath: logPath)
        let reached = try await waitUntilReached(sink: sink, child: child, logPath: logPath, start: start)
        let peakRSS = child.peakRSSBytesSoFar
        let linkage = child.swiftRuntimeLinkage
        child.send(SIGTERM)
        let usage = child.wait()
        let counts = sink.counts
        let figure = BenchReport.Figure(
            name: source, command: arguments.joined(separator: " "), seconds: (reached - start).seconds,
            cpuSeconds: usage.cpuSeconds, lines: generator.lines, bytes: generator.lines * generator.lineBytes,
            operations: counts.operations, peakRSSBytes: peakRSS, requests: counts.requests)
        return (figure, linkage)
    }

    private func waitUntilReached(
        sink: BenchSink, child: ChildProcess, logPath: String, start: ContinuousClock.Instant
    ) async throws -> ContinuousClock.Instant {
        while true {
            if let reached = sink.reachedAt { return reached }
            if !child.isRunning {
                _ = child.wait()
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw BenchError("\(child.command) stopped before sending every operation: \(log)")
            }
            if ContinuousClock.now - start > options.timeout {
                child.send(SIGKILL)
                _ = child.wait()
                throw BenchError(
                    "\(child.command) sent \(sink.counts.operations) operations in \(options.timeout); see \(logPath)")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Runs the agent on `idleFiles` files that do not change and measures its CPU.
    private func idle(executable: String, workload: BenchWorkload, sink: BenchSink) async throws -> BenchReport.Idle {
        for index in 0..<options.idleFiles {
            try "idle line\n".write(
                toFile: workload.directory + "/idle/file\(index).log", atomically: false, encoding: .utf8)
        }
        let configPath = workload.directory + "/idle.yml"
        try workload.idleConfigYAML(url: sink.url).write(toFile: configPath, atomically: true, encoding: .utf8)
        let child = try ChildProcess(
            [executable, "run", "--config", configPath], stderrPath: workload.directory + "/agent-idle.log")
        defer {
            child.send(SIGTERM)
            _ = child.wait()
        }
        try await Task.sleep(for: .seconds(2))
        let start = ContinuousClock.now
        guard let before = child.cpuSecondsSoFar else { throw BenchError("the idle agent stopped; see agent-idle.log") }
        try await Task.sleep(for: .seconds(options.idleSeconds))
        guard let after = child.cpuSecondsSoFar else { throw BenchError("the idle agent stopped; see agent-idle.log") }
        return BenchReport.Idle(
            files: options.idleFiles, seconds: (ContinuousClock.now - start).seconds, cpuSeconds: after - before)
    }

    private static func size(of path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    private static func selfCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
