import Foundation
import Logging
import Testing

@testable import TailTrack

/// The tailer's core stepped by hand over real files: a rotation placed exactly between a
/// scan's look at the followed path and its open of that path (FAILURE-MODES row 2 under
/// load), and the summary the once-a-second snapshot takes.
@Suite struct TailerCoreTests {
    /// Steps `core` until `count` lines arrived (acknowledging every chunk unless told not
    /// to), or 200 steps.
    private func read(_ core: TailerCore, lines count: Int, acknowledge: Bool = true) -> [String] {
        var lines: [String] = []
        var clock = ContinuousClock.now
        for _ in 0..<200 where lines.count < count {
            clock += .milliseconds(30)
            for chunk in core.step(now: clock).chunks {
                for span in chunk.lines {
                    lines.append(String(decoding: chunk.bytes[span.start..<span.start + span.length], as: UTF8.self))
                }
                if acknowledge { core.acknowledge(file: chunk.file, offset: chunk.endOffset) }
            }
        }
        return lines
    }

    private func makeCore(
        _ directory: TemporaryDirectory, glob: String = "app.log", logger: Logger = Logger(label: "test")
    ) throws -> TailerCore {
        let config = TailTrackConfig(
            file: "test.yml", tail: TailSettings(pollInterval: .milliseconds(20)),
            stateDirectory: directory.file("state"),
            sources: [
                SourceSettings(
                    name: "app", paths: [directory.file(glob)], startAt: .beginning,
                    location: SourceLocation(file: "test.yml", line: 1))
            ])
        let store = try CheckpointStore(
            stateDirectory: config.stateDirectory, logger: logger, minimumSaveInterval: .zero)
        return TailerCore(config: config, checkpoint: store, logger: logger)
    }

    /// A core that read `app.log` (lines 1–2), which was then rotated away and recreated with
    /// lines 3–4; at the next open of the path, that file is rotated away too (and, when
    /// `recreate`, a file with lines 5–6 created). `rotated()` says whether that happened.
    private func rotatingAtTheOpen(
        _ directory: TemporaryDirectory, recreate: Bool
    ) throws -> (core: TailerCore, rotated: () -> Bool) {
        try directory.write("app.log", numbered(1, 2))
        let core = try makeCore(directory)
        #expect(read(core, lines: 2) == numberedLines(1, 2))
        try directory.rename("app.log", "app.log-20261201")
        try directory.write("app.log", numbered(3, 2))
        var rotated = false
        core.beforeOpeningLivePath = { _ in
            guard !rotated else { return }
            rotated = true
            try? directory.rename("app.log", "app.log-20261202")
            if recreate { _ = try? directory.write("app.log", numbered(5, 2)) }
        }
        return (core, { rotated })
    }

    /// The scan sees a new file at the path; before it opens it, that file is rotated away and
    /// another created. The file it saw must still be read, from its first line.
    @Test func fileRotatedBetweenTheLookAndTheOpenIsRead() throws {
        let directory = try TemporaryDirectory()
        let (core, rotated) = try rotatingAtTheOpen(directory, recreate: true)
        let lines = read(core, lines: 4)
        #expect(rotated())
        // Oldest first: the file rotated away is read before the one now at the path.
        #expect(lines == numberedLines(3, 4))
    }

    /// The same, but nothing is at the path yet when it is opened: the file the scan saw is
    /// read even though the path is never recreated.
    @Test func fileRenamedBeforeTheOpenWithNothingRecreatedIsRead() throws {
        let directory = try TemporaryDirectory()
        let (core, rotated) = try rotatingAtTheOpen(directory, recreate: false)
        #expect(read(core, lines: 2) == numberedLines(3, 2))
        #expect(rotated())
    }

    /// Only the files with bytes not yet acknowledged are in the summary, and each leaves it
    /// once acknowledged; the count covers every followed file.
    @Test func summaryListsTheFilesBehindUntilTheyAreAcknowledged() throws {
        let directory = try TemporaryDirectory()
        for index in 0..<5 { try directory.write("f\(index).log", numbered(index * 10, 2)) }
        let core = try makeCore(directory, glob: "*.log")
        #expect(read(core, lines: 10).count == 10)
        #expect(core.summary().followed == 5)
        #expect(core.summary().behind.isEmpty)

        try directory.append("f1.log", numbered(100, 1))
        try directory.append("f3.log", numbered(300, 1))
        core.noteWritten([directory.file("f1.log"), directory.file("f3.log")], now: .now)
        #expect(Set(core.summary().behind.map(\.path)) == [directory.file("f1.log"), directory.file("f3.log")])
        // Read but not acknowledged: still behind, by the unacknowledged bytes.
        var chunks: [LineChunk] = []
        var clock = ContinuousClock.now
        for _ in 0..<20 where chunks.count < 2 {
            clock += .milliseconds(30)
            chunks += core.step(now: clock).chunks
        }
        #expect(core.summary().behind.map(\.bytesBehind) == [9, 9])
        for chunk in chunks where chunk.path.hasSuffix("f1.log") {
            core.acknowledge(file: chunk.file, offset: chunk.endOffset)
        }
        #expect(core.summary().behind.map(\.path) == [directory.file("f3.log")])
        for chunk in chunks { core.acknowledge(file: chunk.file, offset: chunk.endOffset) }
        #expect(core.summary().behind.isEmpty)
    }

    /// Past the open-file budget, matched files wait as unreadable, with one warning for all of
    /// them (not one per file); once there is room, the next scan follows them from their
    /// first line, and the agent says every file is followed again.
    @Test func filesPastTheOpenFileBudgetWaitAndAreReadOnceThereIsRoom() throws {
        let directory = try TemporaryDirectory()
        for index in 0..<5 { try directory.write("f\(index).log", numbered(index * 10, 2)) }
        let logs = CapturedLogs()
        let core = try makeCore(directory, glob: "*.log", logger: logs.logger())
        core.maxFollowedFiles = 3
        #expect(read(core, lines: 6) == numberedLines(0, 2) + numberedLines(10, 2) + numberedLines(20, 2))
        #expect(core.summary().followed == 3)
        #expect(core.summary().unreadable == 2)
        #expect(
            core.status().filter { $0.state == TailedFileStatus.unreadable }.map(\.path) == [
                directory.file("f3.log"), directory.file("f4.log"),
            ])
        // Written while waiting: read with the rest once followed.
        try directory.append("f4.log", numbered(42, 1))
        core.noteWritten([directory.file("f4.log")], now: .now)
        let warnings = logs.rendered().filter { $0.contains("open-file limit") }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("\"files.limit\": 3") == true, "\(warnings)")

        core.maxFollowedFiles = 10
        #expect(read(core, lines: 5) == numberedLines(30, 2) + numberedLines(40, 3))
        #expect(core.summary().followed == 5)
        #expect(core.summary().unreadable == 0)
        #expect(logs.messages(at: .info).contains("Every matched file is followed again"))
        #expect(logs.messages(at: .warning).filter { $0.contains("Cannot open a matched file") }.isEmpty)
    }

    /// Matched files the agent may not open (logs only root may read, an agent running as its
    /// own user) are tried again at every scan, without a directory listing for each: with
    /// thousands of them, every scan listed their directory thousands of times. Once they open,
    /// they are read from their first line.
    @Test func unopenableFilesAreRetriedWithoutAListingEachAtEveryScan() throws {
        let directory = try TemporaryDirectory()
        for index in 0..<40 { try directory.write("f\(index).log", numbered(index * 10, 1)) }
        let logs = CapturedLogs()
        let core = try makeCore(directory, glob: "*.log", logger: logs.logger())
        let locked = LockedPaths((2..<40).map { directory.file("f\($0).log") })
        core.beforeOpeningLivePath = { path in
            if locked.paths.contains(path) { throw FileOperationError(path: path, operation: "open", errno: EACCES) }
        }
        #expect(read(core, lines: 2) == numberedLines(0, 1) + numberedLines(10, 1))
        #expect(core.summary().unreadable == 38)
        let listings = core.freshSiblingListings
        var clock = ContinuousClock.now
        for _ in 0..<5 {
            clock += .milliseconds(30)
            #expect(core.step(now: clock).chunks.isEmpty)
        }
        #expect(core.freshSiblingListings == listings, "five scans of 38 unopenable files listed no directory")
        let warnings = logs.messages(at: .warning).filter { $0.contains("Cannot open a matched file") }
        #expect(warnings.count == 38, "one warning per file, not one per scan")

        try directory.append("f5.log", numbered(51, 1))
        locked.paths = []
        let expected = (2..<40).flatMap { numberedLines($0 * 10, 1) } + numberedLines(51, 1)
        #expect(read(core, lines: 39).sorted() == expected.sorted())
        #expect(core.summary().unreadable == 0)
        #expect(core.summary().followed == 40)
    }

    /// A directory where files come and go (a log per job): once a file is deleted, read to
    /// its end and released, the tailer forgets its name, so its memory does not grow with
    /// every name it ever matched. A file created again under a forgotten name is new: read
    /// from its first line.
    @Test func namesOfFilesGoneForGoodAreForgotten() throws {
        let directory = try TemporaryDirectory()
        for index in 0..<30 { try directory.write("job\(index).log", numbered(index * 10, 2)) }
        let core = try makeCore(directory, glob: "*.log")
        #expect(read(core, lines: 60).count == 60)
        #expect(core.rememberedPathCount.known == 30)
        for index in 0..<30 { try directory.remove("job\(index).log") }
        var clock = ContinuousClock.now
        // Deleted files are finished once idle for the partial-line timeout (5 s).
        for _ in 0..<100 where core.summary().followed > 0 || core.rememberedPathCount.known > 0 {
            clock += .milliseconds(200)
            for chunk in core.step(now: clock).chunks { core.acknowledge(file: chunk.file, offset: chunk.endOffset) }
        }
        #expect(core.summary().followed == 0)
        #expect(core.rememberedPathCount.known == 0, "every name forgotten")
        #expect(core.rememberedPathCount.seenFamilies == 0)

        try directory.write("job7.log", numbered(700, 2))
        var lines: [String] = []
        for _ in 0..<20 where lines.count < 2 {
            clock += .milliseconds(30)
            for chunk in core.step(now: clock).chunks {
                for span in chunk.lines {
                    lines.append(String(decoding: chunk.bytes[span.start..<span.start + span.length], as: UTF8.self))
                }
            }
        }
        #expect(lines == numberedLines(700, 2))
        #expect(core.rememberedPathCount.known == 1)
    }

    /// A followed path renamed away and not recreated yet stays remembered while its rotated
    /// file is on disk, so that the file later created under the name is a rotation's new
    /// file and the rotated one is not taken for a new file.
    @Test func aRotatedAwayPathIsRememberedWhileItsSiblingIsOnDisk() throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", numbered(1, 2))
        let core = try makeCore(directory)
        #expect(read(core, lines: 2) == numberedLines(1, 2))
        try directory.rename("app.log", "app.log.1")
        var clock = ContinuousClock.now
        for _ in 0..<20 {
            clock += .milliseconds(30)
            for chunk in core.step(now: clock).chunks { core.acknowledge(file: chunk.file, offset: chunk.endOffset) }
        }
        #expect(core.rememberedPathCount.known == 1)
        try directory.write("app.log", numbered(3, 2))
        #expect(read(core, lines: 2) == numberedLines(3, 2), "the new file only: app.log.1 was read already")
    }

    /// The budget leaves a quarter of the open-file limit (64 to 256 descriptors) for
    /// positions, sockets and inotify; the agent raises its soft limit to the hard one.
    @Test func openFileBudgetKeepsAReserve() {
        #expect(OpenFileLimit.followedFileBudget(limit: 1024) == 768)
        #expect(OpenFileLimit.followedFileBudget(limit: 200) == 136)
        #expect(OpenFileLimit.followedFileBudget(limit: 524_288) == 524_032)
        #expect(OpenFileLimit.followedFileBudget(limit: 10) == 1)
        OpenFileLimit.raiseToHardLimit()
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        #expect(limit.rlim_cur == limit.rlim_max)
    }
}

/// Paths a test's open seam refuses.
private final class LockedPaths {
    var paths: Set<String>
    init(_ paths: [String]) { self.paths = Set(paths) }
}

/// Each input of the agent numbers its units in its own key space, so that an acknowledgement
/// is routed back to the input that produced the lines.
@Suite struct TailerKeySpaceTests {
    @Test func aTailersFilesGetKeysInItsOwnSpace() throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", "one\ntwo\n")
        let config = TailTrackConfig(
            file: "test.yml", stateDirectory: directory.file("state"),
            sources: [
                SourceSettings(
                    name: "app", paths: [directory.file("app.log")], startAt: .beginning,
                    location: SourceLocation(file: "test.yml", line: 1))
            ])
        let store = try CheckpointStore(stateDirectory: directory.file("state"), logger: Logger(label: "test"))
        let core = TailerCore(
            config: config, checkpoint: store, logger: Logger(label: "test"), keySpace: InputKeySpace(index: 3))
        var keys: [FileKey] = []
        var clock = ContinuousClock.now
        for _ in 0..<20 where keys.isEmpty {
            clock += .milliseconds(30)
            keys += core.step(now: clock).chunks.map(\.file)
        }
        #expect(!keys.isEmpty)
        #expect(keys.allSatisfy { InputKeySpace.input(of: $0) == 3 })
    }
}
