import Foundation

/// The benchmark's many-files pass (FAILURE-MODES row 13): the agent follows `files` files in
/// one directory while this process appends a matching line to `active` of them `rate` times
/// a second; it measures the agent's CPU and peak RSS over that time and checks that every
/// written line arrived at the sink as an operation.
struct ManyFilesPass {
    var files: Int
    var active: Int
    var seconds: Double
    var writesPerSecond: Int
    var directory: String
    var stateDirectory: String

    /// Lines the writer appends: each matches ``BenchWorkload/rulesYAML``.
    static func line(_ index: Int) -> [UInt8] {
        Array(
            "2026-11-22T10:00:00Z INFO checkout completed user_id=\(index) email=u\(index)@example.com amount=9.50\n"
                .utf8)
    }

    func config(url: String) -> String {
        """
        track:
          url: \(url)
          site_id: bench-site
          api_key: bench-key
        \(BenchWorkload.sourceYAML(name: "many", paths: directory + "/*.log", startAt: "end", stateDirectory: stateDirectory))
        """
    }

    func run(executable: String, sink: BenchSink, progress: @Sendable (String) -> Void) async throws
        -> BenchReport.ManyFiles
    {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for index in 0..<files {
            let fd = open(directory + "/f\(index).log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw BenchError("cannot create \(directory)/f\(index).log") }
            _ = Self.line(index).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        let configPath = directory + "/../many.yml"
        try config(url: sink.url).write(toFile: configPath, atomically: true, encoding: .utf8)
        let logPath = directory + "/../agent-many.log"
        let child = try ChildProcess([executable, "run", "--config", configPath], stderrPath: logPath)
        defer {
            child.send(SIGTERM)
            _ = child.wait()
        }
        let writers = try (0..<min(active, files)).map { index in
            let fd = open(directory + "/f\(index).log", O_WRONLY | O_APPEND | O_CLOEXEC)
            guard fd >= 0 else { throw BenchError("cannot open \(directory)/f\(index).log") }
            return fd
        }
        defer { for fd in writers { close(fd) } }

        // Ready once a probe line written after the start arrives (the first scan is done and
        // the files are followed).
        sink.reset(expecting: 1)
        let started = ContinuousClock.now
        while sink.reachedAt == nil {
            guard child.isRunning else { throw BenchError("the agent stopped; see \(logPath)") }
            guard ContinuousClock.now - started < .seconds(120) else {
                throw BenchError("the agent did not deliver a probe line in 120 s; see \(logPath)")
            }
            try append(Self.line(0), to: directory + "/f0.log")
            try await Task.sleep(for: .milliseconds(500))
        }
        try await Task.sleep(for: .seconds(2))
        progress("many files: \(files) followed, \(writers.count) written \(writesPerSecond)×/s for \(seconds) s")
        sink.reset(expecting: Int.max)

        guard let cpuBefore = child.cpuSecondsSoFar else { throw BenchError("the agent stopped; see \(logPath)") }
        let start = ContinuousClock.now
        let tick = Duration.seconds(1) / writesPerSecond
        var next = start
        var written = 0
        while next - start < .seconds(seconds) {
            for (index, fd) in writers.enumerated() {
                _ = Self.line(written + index).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            }
            written += writers.count
            next += tick
            let wait = next - .now
            if wait > .zero { try await Task.sleep(for: wait) }
        }
        let elapsed = (ContinuousClock.now - start).seconds
        guard let cpuAfter = child.cpuSecondsSoFar else { throw BenchError("the agent stopped; see \(logPath)") }
        let peakRSS = child.peakRSSBytesSoFar

        // Everything written arrives (the default flush interval is 1 s); nothing more than that.
        let deadline = ContinuousClock.now + .seconds(30)
        while sink.counts.operations < written && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        return BenchReport.ManyFiles(
            files: files, active: writers.count, writesPerSecond: writesPerSecond, seconds: elapsed,
            cpuSeconds: cpuAfter - cpuBefore, peakRSSBytes: peakRSS, linesWritten: written,
            operationsDelivered: sink.counts.operations)
    }

    private func append(_ line: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError("cannot open \(path)") }
        defer { close(fd) }
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
