import Foundation
import Logging
import Testing

@testable import TailTrack

/// Collects delivered lines as text and acknowledges every chunk through the real path.
actor LineCollector {
    private(set) var lines: [String] = []
    private(set) var chunks = 0
    var tailer: Tailer?

    /// While true, the consumer holds the chunk it got (a stalled delivery: backpressure).
    var paused = false

    func attach(_ tailer: Tailer) { self.tailer = tailer }

    func setPaused(_ value: Bool) { paused = value }

    func receive(_ chunk: LineChunk) async {
        chunks += 1
        while paused { try? await Task.sleep(for: .milliseconds(5)) }
        for span in chunk.lines {
            lines.append(String(decoding: chunk.bytes[span.start..<span.start + span.length], as: UTF8.self))
        }
        await tailer?.acknowledge(file: chunk.file, offset: chunk.endOffset)
    }

    /// Waits until `condition` holds for the lines, or fails after `timeout`.
    func waitFor(
        _ description: String, timeout: Duration = .seconds(10),
        _ condition: @Sendable ([String]) -> Bool
    ) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(lines) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting for \(description); lines: \(lines)")
        return false
    }
}

/// A running tailer over one source in a temp dir.
struct TailerHarness {
    let tailer: Tailer
    let collector: LineCollector
    let task: Task<Void, any Error>

    static func start(
        directory: TemporaryDirectory, paths: [String], startAt: SourceSettings.StartAt = .beginning,
        paused: Bool = false,
        backfill: Bool = true,
        tail: TailSettings = TailSettings(pollInterval: .milliseconds(20), partialLineTimeout: .milliseconds(200)),
        sourcesOpened: @escaping @Sendable () -> Void = {},
        onChunks: @escaping @Sendable ([LineChunk]) -> Void = { _ in }
    ) throws -> TailerHarness {
        let config = TailTrackConfig(
            file: "test.yml", tail: tail, stateDirectory: directory.file("state"),
            sources: [
                SourceSettings(
                    name: "app", paths: paths.map { directory.file($0) }, startAt: startAt, backfillRotated: backfill,
                    location: SourceLocation(file: "test.yml", line: 1))
            ])
        let logger = Logger(label: "test")
        let store = try CheckpointStore(
            stateDirectory: config.stateDirectory, logger: logger, minimumSaveInterval: .zero)
        let collector = LineCollector()
        let tailer = Tailer(config: config, checkpoint: store, logger: logger, sourcesOpened: sourcesOpened) {
            (chunks: [LineChunk]) in
            onChunks(chunks)
            for chunk in chunks { await collector.receive(chunk) }
        }
        let task = Task {
            await collector.attach(tailer)
            await collector.setPaused(paused)
            try await tailer.run()
        }
        return TailerHarness(tailer: tailer, collector: collector, task: task)
    }

    /// Waits until the consumer has received `count` chunks (counting one it holds).
    func waitForChunks(_ count: Int) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while await collector.chunks < count {
            if ContinuousClock.now > deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Cancels the run and saves the positions, as shutdown does.
    func stop() async throws {
        task.cancel()
        _ = try? await task.value
        try await tailer.saveCheckpoint()
    }
}

/// `count` numbered lines starting at `first`: "line 1\n", "line 2\n", …
func numbered(_ first: Int, _ count: Int, prefix: String = "line") -> String {
    (first..<first + count).map { "\(prefix) \($0)\n" }.joined()
}

func numberedLines(_ first: Int, _ count: Int, prefix: String = "line") -> [String] {
    (first..<first + count).map { "\(prefix) \($0)" }
}
