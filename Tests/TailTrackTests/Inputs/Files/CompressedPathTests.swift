import Foundation
import Logging
import Testing

@testable import TailTrack

/// A gzip file matched at its own path (an archive named in `paths:`, judged by its first
/// bytes, whatever its name) is read decompressed from its start, once, as a rotated .gz is:
/// positions in uncompressed bytes, and a restart reads nothing of it again.
@Suite(.serialized) struct CompressedPathTests {
    /// The saved positions in `directory`'s state, by path.
    private func savedOffsets(_ directory: TemporaryDirectory) throws -> [String: UInt64] {
        let store = try CheckpointStore(stateDirectory: directory.file("state"), logger: Logger(label: "test"))
        return Dictionary(store.entries.map { ($0.path, $0.offset) }, uniquingKeysWith: max)
    }

    @Test func gzipNamedInPathsIsReadDecompressedOnce() async throws {
        let directory = try TemporaryDirectory()
        let text = numbered(1, 500)
        try directory.write("app.log", text)
        try directory.run("/bin/gzip", ["app.log"])
        let harness = try TailerHarness.start(directory: directory, paths: ["*.log.gz"])
        #expect(await harness.collector.waitFor("the uncompressed lines") { $0 == numberedLines(1, 500) })
        // Released once acknowledged: read to its end, nothing follows.
        let deadline = ContinuousClock.now + .seconds(5)
        while await !harness.tailer.status().isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await harness.tailer.status().isEmpty)
        try await Task.sleep(for: .milliseconds(200))
        #expect(await harness.collector.lines.count == 500)
        try await harness.stop()
        #expect(try savedOffsets(directory) == [directory.file("app.log.gz"): UInt64(text.utf8.count)])

        let again = try TailerHarness.start(directory: directory, paths: ["*.log.gz"])
        try await Task.sleep(for: .milliseconds(500))
        #expect(await again.collector.lines.isEmpty)
        try await again.stop()
        #expect(try savedOffsets(directory) == [directory.file("app.log.gz"): UInt64(text.utf8.count)])
    }

    /// Judged by the magic bytes: a .gz named like a plain log is decompressed all the same,
    /// its last line (without a newline) flushed at once, as a finished file's.
    @Test func gzipWithAPlainNameIsReadDecompressed() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("source", numbered(1, 20) + "last")
        try directory.run("/bin/sh", ["-c", "gzip -c source > app.log"])
        let harness = try TailerHarness.start(
            directory: directory, paths: ["*.log"],
            tail: TailSettings(pollInterval: .milliseconds(20), partialLineTimeout: .seconds(60)))
        #expect(await harness.collector.waitFor("the uncompressed lines") { $0 == numberedLines(1, 20) + ["last"] })
        try await harness.stop()
    }

    /// Empty when first seen (being compressed into its place): read decompressed once its
    /// bytes are there.
    @Test func fileEmptyWhenFirstSeenThatTurnsOutGzipIsReadDecompressed() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("source", numbered(1, 50))
        try directory.write("app.log.gz", "")
        let harness = try TailerHarness.start(directory: directory, paths: ["*.gz"])
        try await Task.sleep(for: .milliseconds(200))
        try directory.run("/bin/sh", ["-c", "gzip -c source >> app.log.gz"])
        #expect(await harness.collector.waitFor("the uncompressed lines") { $0 == numberedLines(1, 50) })
        try await harness.stop()
        #expect(
            try savedOffsets(directory) == [directory.file("app.log.gz"): UInt64(numbered(1, 50).utf8.count)])
    }

    /// `start_at: end`: a .gz there at start has nothing new; one that appears later is new.
    @Test func startAtEndLeavesExistingGzipAloneAndReadsANewOne() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("old.log", numbered(1, 10))
        try directory.run("/bin/gzip", ["old.log"])
        let harness = try TailerHarness.start(directory: directory, paths: ["*.gz"], startAt: .end)
        try await Task.sleep(for: .milliseconds(300))
        try directory.write("new.log", numbered(11, 10))
        try directory.run("/bin/gzip", ["new.log"])
        #expect(await harness.collector.waitFor("the new file's lines") { $0 == numberedLines(11, 10) })
        try await Task.sleep(for: .milliseconds(200))
        #expect(await harness.collector.lines == numberedLines(11, 10))
        try await harness.stop()
    }

    /// Rewritten in place (same inode) while the agent was stopped, with a shorter .gz that
    /// begins with the same line: not the file saved there, so it is read from its start.
    @Test func shorterGzipAtTheSameInodeIsReadFromItsStart() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("first", numbered(1, 100))
        try directory.write("second", numbered(1, 5))
        try directory.run("/bin/sh", ["-c", "gzip -c first > app.log.gz"])
        let harness = try TailerHarness.start(directory: directory, paths: ["*.gz"])
        #expect(await harness.collector.waitFor("the first file") { $0 == numberedLines(1, 100) })
        let deadline = ContinuousClock.now + .seconds(5)
        while await !harness.tailer.status().isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await harness.stop()
        // `>` truncates the file in place: the same inode, shorter content.
        try directory.run("/bin/sh", ["-c", "gzip -c second > app.log.gz"])
        let again = try TailerHarness.start(directory: directory, paths: ["*.gz"])
        #expect(await again.collector.waitFor("the rewritten file") { $0 == numberedLines(1, 5) })
        try await again.stop()
    }

    /// A member appended to a .gz read whole: read on from where it stopped.
    @Test func memberAppendedToAReadGzipIsReadOn() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("first", numbered(1, 10))
        try directory.write("second", numbered(11, 10))
        try directory.run("/bin/sh", ["-c", "gzip -c first > app.log.gz"])
        let harness = try TailerHarness.start(directory: directory, paths: ["*.gz"])
        #expect(await harness.collector.waitFor("the first member") { $0 == numberedLines(1, 10) })
        let deadline = ContinuousClock.now + .seconds(5)
        while await !harness.tailer.status().isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try directory.run("/bin/sh", ["-c", "gzip -c second >> app.log.gz"])
        #expect(await harness.collector.waitFor("the second member") { $0 == numberedLines(1, 20) })
        try await harness.stop()
    }
}
