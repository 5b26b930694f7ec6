import Foundation
import Logging
import Synchronization
import Testing

@testable import TailTrack

/// The tailer over real files in a temp dir; a collector acknowledges every chunk.
@Suite(.serialized) struct TailerTests {
    @Test func followsAppends() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 3))
        let harness = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await harness.collector.waitFor("first lines") { $0 == numberedLines(1, 3) })
        try directory.append("app.log", "line 4\nline ")
        try directory.append("app.log", "5\r\n")
        #expect(await harness.collector.waitFor("appended lines") { $0 == numberedLines(1, 5) })
        try await harness.stop()
    }

    /// The agent gives back its start-up code in `sourcesOpened`: it must run once, after the
    /// first scan and before any chunk is read.
    @Test func sourcesOpenedRunsOnceBeforeAnythingIsRead() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 3))
        try directory.write("web.log", numbered(10, 2))
        let events = Mutex<[String]>([])
        let running = Mutex<Tailer?>(nil)
        let harness = try TailerHarness.start(
            directory: directory, paths: ["app.log", "web.log"],
            sourcesOpened: {
                // On the reading thread: both files open, none of their bytes read. (The
                // harness hands back the tailer as it starts: wait for it, briefly.)
                let deadline = ContinuousClock.now + .seconds(5)
                while running.withLock({ $0 }) == nil, ContinuousClock.now < deadline { usleep(1000) }
                let tailer = running.withLock { $0 }
                events.withLock { $0.append("opened, \(tailer?.emittedBytes() ?? 99) bytes read") }
            },
            onChunks: { chunks in events.withLock { $0 += chunks.map { _ in "chunk" } } })
        running.withLock { $0 = harness.tailer }
        #expect(await harness.collector.waitFor("first lines") { $0.count == 5 })
        try directory.append("app.log", numbered(4, 1))
        #expect(await harness.collector.waitFor("appended line") { $0.count == 6 })
        try await harness.stop()
        let seen = events.withLock { $0 }
        #expect(seen.first == "opened, 0 bytes read")
        #expect(seen.filter { $0.hasPrefix("opened") }.count == 1)
        #expect(seen.filter { $0 == "chunk" }.count >= 3)
    }

    /// A backlog larger than the read queue takes several steps; only the step that reads
    /// the last of it marks its last chunk as ending a backlog (delivery flushes there). A
    /// line written afterwards, read in one step, does not; nor does a small file found at
    /// start, read in one step.
    @Test func theChunkThatCatchesUpWithABacklogSaysSo() async throws {
        let directory = try TemporaryDirectory()
        let count = 40_000
        try directory.write("app.log", numbered(1, count, prefix: String(repeating: "x", count: 40)))
        try directory.write("small.log", numbered(1, 3, prefix: "small"))
        let small = Mutex<[Bool]>([])
        let smallHarness = try TailerHarness.start(
            directory: directory, paths: ["small.log"],
            onChunks: { chunks in small.withLock { $0 += chunks.map(\.endsBacklog) } })
        #expect(await smallHarness.collector.waitFor("the small file") { $0.count == 3 })
        try await smallHarness.stop()
        #expect(small.withLock { $0 } == [false])

        let marks = Mutex<[Bool]>([])
        let harness = try TailerHarness.start(
            directory: directory, paths: ["app.log"],
            onChunks: { chunks in marks.withLock { $0 += chunks.map(\.endsBacklog) } })
        #expect(await harness.collector.waitFor("the backlog") { $0.count == count })
        let backlog = marks.withLock { $0 }
        #expect(backlog.count > 2)
        #expect(backlog.last == true)
        #expect(backlog.dropLast().allSatisfy { !$0 })
        try directory.append("app.log", "one more\n")
        #expect(await harness.collector.waitFor("the new line") { $0.last == "one more" })
        #expect(marks.withLock { Array($0.dropFirst(backlog.count)) } == [false])
        try await harness.stop()
    }

    @Test func startAtEndSkipsExistingLines() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 3) + "partial")
        let harness = try TailerHarness.start(directory: directory, paths: ["app.log"], startAt: .end)
        let deadline = ContinuousClock.now + .seconds(5)
        while await harness.tailer.status().isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await harness.tailer.status().map(\.committedOffset) == [21])
        try directory.append("app.log", " done\nline 4\n")
        #expect(await harness.collector.waitFor("new lines") { $0 == ["partial done", "line 4"] })
        try await harness.stop()
    }

    @Test func renameAndCreateReadsTheOldFileToItsEnd() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 2))
        let harness = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await harness.collector.waitFor("first lines") { $0.count == 2 })
        try directory.append("app.log", numbered(3, 2))
        try directory.rename("app.log", "app.log.1")
        try directory.write("app.log", numbered(5, 2))
        try directory.append("app.log.1", numbered(100, 1))  // the app writes before reopening
        #expect(await harness.collector.waitFor("all lines") { $0.count == 7 })
        let lines = await harness.collector.lines
        #expect(Set(lines) == Set(numberedLines(1, 4) + numberedLines(5, 2) + ["line 100"]))
        #expect(Array(lines.prefix(4)) == numberedLines(1, 4))
        try await harness.stop()
    }

    @Test func copytruncateFinishesTheCopyThenRestarts() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 3))
        let harness = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await harness.collector.waitFor("first lines") { $0.count == 3 })
        try directory.append("app.log", numbered(4, 2))
        try directory.run("/bin/cp", ["app.log", "app.log.1"])
        // Truncate, then write past the old size at once: only the tail hash can tell.
        try directory.write("app.log", numbered(10, 20, prefix: "new"))
        #expect(await harness.collector.waitFor("copy and new file") { $0.count == 25 })
        let lines = await harness.collector.lines
        #expect(Set(lines) == Set(numberedLines(1, 5) + numberedLines(10, 20, prefix: "new")))
        try await harness.stop()
    }

    @Test func deletedWhileOpenIsReadToItsEnd() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 2))
        let handle = try #require(FileHandle(forWritingAtPath: directory.file("app.log")))
        let harness = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await harness.collector.waitFor("first lines") { $0.count == 2 })
        try directory.remove("app.log")
        handle.seekToEndOfFile()
        handle.write(Data(numbered(3, 2).utf8))
        try handle.close()
        #expect(await harness.collector.waitFor("lines written after delete") { $0 == numberedLines(1, 4) })
        // Once read and acknowledged, the file is released.
        let deadline = ContinuousClock.now + .seconds(5)
        while await !harness.tailer.status().isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await harness.tailer.status().isEmpty)
        try await harness.stop()
    }

    @Test func identicalHeadersAndManySmallFilesAreAllRead() async throws {
        let directory = try TemporaryDirectory()
        for index in 0..<50 {
            try directory.write("f\(index).log", "same header line\nbody \(index)\n")
        }
        try directory.write("empty.log", "")
        try directory.write("short.log", "no newline")
        let harness = try TailerHarness.start(directory: directory, paths: ["*.log"])
        #expect(await harness.collector.waitFor("all bodies") { $0.count == 100 })
        try directory.append("empty.log", "now there\n")
        try directory.append("short.log", " yet\n")
        #expect(await harness.collector.waitFor("small files") { $0.count == 102 })
        let lines = await harness.collector.lines
        #expect(lines.filter { $0 == "same header line" }.count == 50)
        #expect(Set(lines.filter { $0.hasPrefix("body") }).count == 50)
        #expect(lines.contains("now there") && lines.contains("no newline yet"))
        try await harness.stop()
    }

    @Test func restartResumesWithNoDuplicateAndNoGap() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 5))
        let first = try TailerHarness.start(directory: directory, paths: ["app.log*"])
        #expect(await first.collector.waitFor("first run") { $0.count == 5 })
        try await first.stop()
        // While down: more lines, a rotation with compression, a new file.
        try directory.append("app.log", numbered(6, 3))
        try directory.rename("app.log", "app.log.1")
        try directory.run("/bin/gzip", ["app.log.1"])
        try directory.write("app.log", numbered(9, 2))
        let second = try TailerHarness.start(directory: directory, paths: ["app.log*"])
        #expect(await second.collector.waitFor("second run") { $0.count == 5 })
        #expect(await second.collector.lines == numberedLines(6, 5))
        try await second.stop()
        // A third start reads nothing again.
        try directory.append("app.log", numbered(11, 1))
        let third = try TailerHarness.start(directory: directory, paths: ["app.log*"])
        #expect(await third.collector.waitFor("third run") { $0.count == 1 })
        #expect(await third.collector.lines == ["line 11"])
        try await third.stop()
    }

    @Test func inodeReuseIsANewFile() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 5))
        let first = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await first.collector.waitFor("first run") { $0.count == 5 })
        try await first.stop()
        // Same path and inode (rewritten in place), different content, longer than before.
        let handle = try #require(FileHandle(forUpdatingAtPath: directory.file("app.log")))
        try handle.truncate(atOffset: 0)
        handle.write(Data(numbered(1, 9, prefix: "other").utf8))
        try handle.close()
        let second = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await second.collector.waitFor("new content from 0") { $0.count == 9 })
        #expect(await second.collector.lines == numberedLines(1, 9, prefix: "other"))
        try await second.stop()
    }

    @Test func backfillsRotatedSiblingsOldestFirst() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log.2", numbered(1, 2))
        try directory.run("/bin/gzip", ["app.log.2"])
        try directory.write("app.log.1", numbered(3, 2))
        try directory.write("app.log", numbered(5, 2))
        let harness = try TailerHarness.start(directory: directory, paths: ["app.log*"])
        #expect(await harness.collector.waitFor("all files") { $0.count == 6 })
        #expect(await harness.collector.lines == numberedLines(1, 6))
        try await harness.stop()
    }

    @Test func offlineStatusShowsBytesBehind() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 2))
        let harness = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await harness.collector.waitFor("lines") { $0.count == 2 })
        let live = await harness.tailer.status()
        #expect(live.map(\.committedOffset) == [14])
        try await harness.stop()
        try directory.append("app.log", "more\n")
        let status = try Tailer.offlineStatus(stateDirectory: directory.file("state"), logger: .init(label: "t"))
        #expect(status.map(\.path) == [directory.file("app.log")])
        #expect(status.first?.committedOffset == 14)
        #expect(status.first?.bytesBehind == 5)
    }

    @Test func compressedWhileBehindIsReadOnceInOrder() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 1000))
        let harness = try TailerHarness.start(directory: directory, paths: ["app.log*"], paused: true)
        #expect(await harness.waitForChunks(1))
        // Delivery is stalled; meanwhile the file grows, is rotated and compressed.
        try directory.append("app.log", numbered(1001, 1000))
        try directory.rename("app.log", "app.log.1")
        try directory.run("/bin/gzip", ["app.log.1"])
        try directory.write("app.log", numbered(2001, 10))
        await harness.collector.setPaused(false)
        #expect(await harness.collector.waitFor("every line") { $0.count >= 2010 })
        #expect(await harness.collector.lines == numberedLines(1, 2010))
        try await harness.stop()
    }

    @Test func copytruncateWhileStoppedFinishesTheCopy() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 3))
        let first = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await first.collector.waitFor("first run") { $0.count == 3 })
        try await first.stop()
        try directory.append("app.log", numbered(4, 2))
        try directory.run("/bin/cp", ["app.log", "app.log.1"])
        let handle = try #require(FileHandle(forUpdatingAtPath: directory.file("app.log")))
        try handle.truncate(atOffset: 0)
        handle.write(Data(numbered(1, 10, prefix: "new").utf8))
        try handle.close()
        let second = try TailerHarness.start(directory: directory, paths: ["app.log"])
        #expect(await second.collector.waitFor("copy then new") { $0.count >= 12 })
        #expect(await second.collector.lines == numberedLines(4, 2) + numberedLines(1, 10, prefix: "new"))
        try await second.stop()
    }

    @Test func deletedFilesBeyondTheByteLimitAreReleasedAndCounted() async throws {
        let directory = try TemporaryDirectory()
        let line = String(repeating: "x", count: 99) + "\n"
        try directory.write("app.log", String(repeating: line, count: 120_000))  // 12 MB
        let harness = try TailerHarness.start(
            directory: directory, paths: ["app.log"], paused: true,
            tail: TailSettings(
                pollInterval: .milliseconds(20), partialLineTimeout: .milliseconds(200), maxDeletedBytes: 1_000_000))
        #expect(await harness.waitForChunks(1))
        try directory.remove("app.log")
        await harness.collector.setPaused(false)
        let deadline = ContinuousClock.now + .seconds(10)
        while await harness.tailer.lostBytes() == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let lost = await harness.tailer.lostBytes()
        #expect(lost > 0)
        // Every byte is either delivered (lines read before the release) or counted as lost.
        #expect(await harness.collector.waitFor("read lines delivered") { UInt64($0.count) * 100 + lost == 12_000_000 })
        #expect(await harness.tailer.status().isEmpty)
        try await harness.stop()
    }
}
