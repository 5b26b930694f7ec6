import Foundation

/// The benchmark's stalled-endpoint pass: the agent follows a log that this process appends
/// to at a steady rate while the sink reads every request and answers none, as a hung Track
/// would. Reading must wait for delivery, so the agent's memory has to stay flat however far
/// the log grows; the pass samples it throughout. Then the sink answers again, and every
/// matching line written during the stall must arrive, once.
struct StalledEndpointPass {
    var seconds: Double
    var bytesPerSecond: Int
    /// Makes the lines (its `lines` is ignored: the pass writes for ``seconds``).
    var generator: BenchLogGenerator
    var directory: String
    var stateDirectory: String

    /// Appends happen this many times a second.
    static let ticksPerSecond = 20

    var logPath: String { directory + "/app.log" }

    /// Short request timeout and backoff, so that the agent retries during the stall and comes
    /// back within a few seconds once the sink answers.
    func config(url: String) -> String {
        """
        track:
          url: \(url)
          site_id: bench-site
          api_key: bench-key
          connect_timeout: 1s
          timeout: 2s
        retry:
          initial_backoff: 100ms
          max_backoff: 1s
        batch:
          flush_interval: 100ms
          max_requests_per_second: 10000
        \(BenchWorkload.sourceYAML(name: "stalled", paths: logPath, startAt: "beginning", stateDirectory: stateDirectory))
        """
    }

    func run(executable: String, sink: BenchSink, progress: @Sendable (String) -> Void) async throws
        -> BenchReport.Stalled
    {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchError("cannot create \(logPath)") }
        defer { close(fd) }
        let configPath = directory + "/../stalled.yml"
        try config(url: sink.url).write(toFile: configPath, atomically: true, encoding: .utf8)
        let agentLog = directory + "/../agent-stalled.log"

        sink.reset(expecting: Int.max)
        sink.isStalled = true
        let child = try ChildProcess([executable, "run", "--config", configPath], stderrPath: agentLog)
        defer {
            child.send(SIGTERM)
            _ = child.wait()
        }
        progress(
            String(
                format: "stalled endpoint: the log grows %.1f MB/s for %.1f s, nothing answered",
                Double(bytesPerSecond) / 1e6, seconds))

        let lineBytes = generator.lineBytes
        let linesPerTick = max(1, bytesPerSecond / Self.ticksPerSecond / lineBytes)
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: linesPerTick * lineBytes, alignment: 64)
        defer { block.deallocate() }
        var written = 0
        var matching = 0
        var firstHalfRSS = 0
        var secondHalfRSS = 0
        let start = ContinuousClock.now
        let tick = Duration.seconds(1) / Self.ticksPerSecond
        var next = start
        guard let cpuBefore = child.cpuSecondsSoFar else { throw BenchError("the agent stopped; see \(agentLog)") }
        while next - start < .seconds(seconds) {
            generator.fill(block, from: written, count: linesPerTick)
            try write(block, to: fd)
            for index in written..<(written + linesPerTick) where generator.isMatching(index) { matching += 1 }
            written += linesPerTick
            guard let rss = child.rssBytesNow else { throw BenchError("the agent stopped; see \(agentLog)") }
            if (next - start).seconds < seconds / 2 {
                firstHalfRSS = max(firstHalfRSS, rss)
            } else {
                secondHalfRSS = max(secondHalfRSS, rss)
            }
            next += tick
            let wait = next - .now
            if wait > .zero { try await Task.sleep(for: wait) }
        }
        let elapsed = (ContinuousClock.now - start).seconds
        guard let cpuAfter = child.cpuSecondsSoFar, let peakRSS = child.peakRSSBytesSoFar else {
            throw BenchError("the agent stopped; see \(agentLog)")
        }
        let unanswered = sink.counts

        // The endpoint answers again: everything written arrives, and nothing twice.
        progress("stalled endpoint: answering again")
        sink.reset(expecting: matching)
        let resumed = ContinuousClock.now
        while sink.reachedAt == nil {
            guard child.isRunning else { throw BenchError("the agent stopped; see \(agentLog)") }
            guard ContinuousClock.now - resumed < .seconds(300) else {
                throw BenchError(
                    "the agent delivered \(sink.counts.operations) of \(matching) operations in 300 s after the "
                        + "endpoint answered again; see \(agentLog)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let recovery = ((sink.reachedAt ?? .now) - resumed).seconds
        // Ten flush intervals for anything sent twice to show up.
        try await Task.sleep(for: .seconds(1))
        return BenchReport.Stalled(
            seconds: elapsed, bytesWritten: written * lineBytes, linesWritten: written,
            cpuSeconds: cpuAfter - cpuBefore,
            peakRSSBytes: peakRSS, firstHalfRSSBytes: firstHalfRSS, secondHalfRSSBytes: secondHalfRSS,
            unansweredRequests: unanswered.unansweredRequests, unansweredOperations: unanswered.unansweredOperations,
            operationsExpected: matching, operationsDelivered: sink.counts.operations, recoverySeconds: recovery)
    }

    private func write(_ bytes: UnsafeMutableRawBufferPointer, to fd: Int32) throws {
        guard var base = bytes.baseAddress.map(UnsafeRawPointer.init) else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let done = Glibc.write(fd, base, remaining)
            if done < 0 && errno == EINTR { continue }
            guard done > 0 else { throw BenchError("cannot append to \(logPath): \(String(cString: strerror(errno)))") }
            base += done
            remaining -= done
        }
    }
}
