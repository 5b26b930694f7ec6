import Foundation
import Synchronization
import Testing

@testable import TailTrack

/// Tailer bugs the model found, reduced to deterministic tests (the seeds named are those of
/// the run that found them; the generator has changed since). Disabled until the tailer is
/// fixed (not in this change: the tailer is being split up). Meanwhile the model steers clear
/// of them: it lets the tailer read the live file to its end before a copytruncate and the
/// first line of a rotated file before compressing it, dates compressed files read before an
/// hour back at a restart, and changes no file before a new tailer's first scan.
///
/// Found too, not reduced here: a first scan that runs while a rotation has renamed `app.log`
/// and not yet created the new one follows no file of the family, so with no saved position
/// the rotated files are never backfilled; a rotated file renamed (`.1` → `.2`) between the
/// first scan's listing and its open is skipped for good; a copytruncate followed by a
/// rename rotation between two looks (one poll interval) reads the copy twice.
///
/// Seeds 2171, 2202, 2209: a live file followed at offset 0 with nothing read from it yet
/// (just opened at start with a backlog, or by a restart whose saved position is 0, or reading
/// paused by a full queue) that copytruncate empties is not seen as truncated: it did not
/// shrink below the read position (0) and there are no bytes before the position whose hash
/// could differ. So the copy (`app.log.1`) is never read: its lines are lost. If the file is
/// rewritten first, its new lines are read with the old content's fingerprint (taken at the
/// open), so their event ids are not the ones the rules give them when read from the file.
@Suite(.serialized) struct TailerModelFindingsTests {
    @Test(.disabled("tailer bug: copytruncate before the first read loses the copied lines"))
    func copytruncateBeforeTheFirstReadKeepsTheCopiedLines() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 3))
        let harness = try TailerHarness.start(
            directory: directory, paths: ["app.log"],
            sourcesOpened: {
                // On the reading thread, after the first scan opened app.log and before any read.
                try? FileManager.default.copyItem(
                    atPath: directory.file("app.log"), toPath: directory.file("app.log.1"))
                try? FileHandle(forUpdatingAtPath: directory.file("app.log"))?.truncate(atOffset: 0)
            })
        #expect(await harness.collector.waitFor("the copied lines", timeout: .seconds(3)) { $0 == numberedLines(1, 3) })
        try await harness.stop()
    }

    /// The same, with the truncated file rewritten past its old size before the first read.
    @Test(.disabled("tailer bug: copytruncate and rewrite before the first read: copy lost, stale fingerprint"))
    func copytruncateAndRewriteBeforeTheFirstReadKeepsBoth() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 3))
        let fingerprints = Mutex<[FileFingerprint]>([])
        let harness = try TailerHarness.start(
            directory: directory, paths: ["app.log"],
            sourcesOpened: {
                try? FileManager.default.copyItem(
                    atPath: directory.file("app.log"), toPath: directory.file("app.log.1"))
                _ = try? directory.write("app.log", numbered(1, 5, prefix: "new"))
            },
            onChunks: { chunks in fingerprints.withLock { $0 += chunks.map(\.fingerprint) } })
        #expect(
            await harness.collector.waitFor("both files", timeout: .seconds(3)) {
                Set($0) == Set(numberedLines(1, 3) + numberedLines(1, 5, prefix: "new"))
            })
        try await harness.stop()
        let expected = Array("new 1\n".utf8).withUnsafeBytes { FileFingerprint.compute(head: $0) }
        #expect(fingerprints.withLock { $0 }.contains { $0 == expected })
    }

    /// Seed 2515: a live file copytruncated and rewritten to exactly the size it had between two
    /// looks of the tailer, while lines of it were unread: the size did not change, so the
    /// bytes before the position are not compared; the tailer reads the new content from the
    /// old position (a fragment of a line), and the copy's unread lines are lost.
    @Test(.disabled("tailer bug: a copytruncate rewritten to the same size between two looks is not seen"))
    func copytruncateRewrittenToTheSameSizeIsSeen() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 3))
        let first = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await first.collector.waitFor("first run") { $0.count == 3 })
        try await first.stop()
        try directory.append("app.log", numbered(4, 1))  // saved at 21 of 28 bytes
        let second = try TailerHarness.start(
            directory: directory, paths: ["app.log"],
            sourcesOpened: {
                try? FileManager.default.copyItem(
                    atPath: directory.file("app.log"), toPath: directory.file("app.log.1"))
                _ = try? directory.write("app.log", "fresh 1\nfresh 2\nfresh 3\nabc\n")  // 28 bytes again
            })
        let expected = ["line 4", "fresh 1", "fresh 2", "fresh 3", "abc"]
        #expect(await second.collector.waitFor("the copy, then the new file", timeout: .seconds(3)) { $0 == expected })
        try await second.stop()
    }

    /// Seeds 2399, 2556: a rotated file read to its end, compressed while the tailer runs (its
    /// plain file is deleted, so its position is dropped when it is released), is read again
    /// whole after a restart within a second of its last write: with no saved position, a
    /// sibling "written after the last save" is taken for one rotated in while the agent was
    /// down. The lines are sent twice (with the same ids).
    @Test(.disabled("tailer bug: a compressed file read before is read again after a quick restart"))
    func compressedAfterItWasReadIsNotReadAgain() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 3))
        let first = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await first.collector.waitFor("first run") { $0.count == 3 })
        try await first.stop()
        try directory.rename("app.log", "app.log.1")
        try directory.write("app.log", "")
        let second = try TailerHarness.start(directory: directory, paths: ["app.log"])
        let deadline = ContinuousClock.now + .seconds(5)
        while await !second.tailer.hasOpenedSources() && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        try directory.run("/bin/gzip", ["app.log.1"])
        while await second.tailer.status().count > 1 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await second.stop()
        try directory.append("app.log", numbered(4, 1))
        let third = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await third.collector.waitFor("the new line") { $0.contains("line 4") })
        #expect(await third.collector.lines == ["line 4"])
        try await third.stop()
    }

    /// Seeds 21628, 21764: lines written to the live file, which is rotated and compressed at
    /// once (`compress` without `delaycompress`) before the tailer read anything from it (it
    /// was behind): its fingerprint is still unknown, so the .gz is not recognised as the
    /// compressed copy of the file still open and is read as a new rotated file; the lines are
    /// read twice in one run (with the same ids).
    @Test(.disabled("tailer bug: rotated and compressed before its first read, a file is read twice"))
    func rotatedAndCompressedBeforeItsFirstReadIsReadOnce() async throws {
        let directory = try TemporaryDirectory()
        // More than the read queue holds: with delivery stalled, reading stops, scanning goes on.
        try directory.write("big.log", numbered(1, 40_000, prefix: String(repeating: "x", count: 30)))
        try directory.write("app.log", "")
        let harness = try TailerHarness.start(directory: directory, paths: ["big.log", "app.log"], paused: true)
        #expect(await harness.waitForChunks(1))
        try directory.append("app.log", numbered(1, 2, prefix: "app"))
        try directory.rename("app.log", "app.log.1")
        try directory.write("app.log", "")
        try directory.run("/bin/gzip", ["app.log.1"])
        let deadline = ContinuousClock.now + .seconds(5)
        while await !harness.tailer.status().contains(where: { $0.path.hasSuffix(".gz") })
            && ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(10))
        }
        await harness.collector.setPaused(false)
        #expect(await harness.collector.waitFor("every line") { $0.count >= 40_002 })
        let appLines = await harness.collector.lines.filter { $0.hasPrefix("app") }
        #expect(appLines == numberedLines(1, 2, prefix: "app"), "\(appLines)")
        try await harness.stop()
    }
}
