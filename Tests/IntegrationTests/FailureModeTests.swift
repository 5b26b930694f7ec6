import Foundation
import Synchronization
import Testing

/// The scenarios of `FAILURE-MODES.md` against the real daemon (sizes scaled down to keep
/// the suite within a few minutes on two cores).
@Suite(.serialized)
struct FailureModeTests {
    /// Row 1: flat-out writing with rename+create rotation every few thousand lines, agent
    /// killed now and then: every line arrives, each with one id.
    @Test func fastRenameRotationWithKills() throws {
        let scenario = try Scenario("row1")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        try scenario.daemon.start()
        for round in 0..<10 {
            for _ in 0..<5 { try scenario.writer.append(1000, to: scenario.log) }
            try FileManager.default.moveItem(atPath: scenario.log, toPath: scenario.log + datedSuffix(round))
            if round % 4 == 3 { try scenario.killAtRandomMoment() }
        }
        try scenario.writer.append(100, to: scenario.log)
        scenario.finish()
    }

    /// Row 2: many rotations in a second, two inside one poll interval, the new file briefly
    /// mode 000: ingestion continues.
    @Test func manyRotationsInOneSecond() throws {
        let scenario = try Scenario("row2")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        try scenario.writer.append(10, to: scenario.log)
        try scenario.daemon.start()
        scenario.waitForDelivery()
        for rotation in 1...100 {
            try scenario.writer.append(20, to: scenario.log)
            try FileManager.default.moveItem(atPath: scenario.log, toPath: scenario.log + datedSuffix(rotation))
            if rotation % 10 == 0 {
                _ = FileManager.default.createFile(
                    atPath: scenario.log, contents: nil, attributes: [.posixPermissions: 0])
                usleep(100_000)
                chmod(scenario.log, 0o644)
            }
            usleep(10_000)
        }
        try scenario.writer.append(100, to: scenario.log)
        scenario.finish()
    }

    /// Row 3: delete and recreate the file until an inode repeats, with the agent running and
    /// stopped: the new file is read from 0, never at the stale offset.
    @Test func inodeReuseReadsNewFileFromZero() throws {
        let scenario = try Scenario("row3")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        try scenario.writer.append(200, to: scenario.log)
        try scenario.daemon.start()
        var seen = Set<UInt64>()
        var repeats = 0
        for attempt in 0..<60 where repeats < 3 {
            scenario.waitForDelivery()
            let stopped = attempt % 2 == 1
            if stopped { #expect(scenario.daemon.terminate() == 0) }
            try FileManager.default.removeItem(atPath: scenario.log)
            // A shorter file than the one before: a stale offset would skip all of it.
            try scenario.writer.append(50 + attempt % 7, to: scenario.log)
            if let number = inode(of: scenario.log), !seen.insert(number).inserted { repeats += 1 }
            if stopped { try scenario.daemon.start() }
        }
        #expect(repeats > 0, "no inode was reused; the scenario did not happen")
        scenario.finish(allowDuplicates: false)
    }

    /// Row 6: kill in the middle of reading a .gz; a .gz still being written (truncated)
    /// when the agent starts; a multi-member .gz.
    @Test func gzipEdgeCases() throws {
        let scenario = try Scenario("row6")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        try scenario.writer.append(100, to: scenario.log)
        try scenario.daemon.start()
        scenario.waitForDelivery()
        #expect(scenario.daemon.terminate() == 0)
        // The followed file gets more lines, then is compressed in two members, written in
        // two steps while the agent starts.
        try scenario.writer.append(30000, to: scenario.log)
        let plain = try Data(contentsOf: URL(fileURLWithPath: scenario.log))
        let half = plain.firstIndex(of: 0x0A, after: plain.count / 2)
        let gz = try gzip(plain[..<half]) + gzip(plain[half...])
        try FileManager.default.removeItem(atPath: scenario.log)
        let gzPath = scenario.log + ".1.gz"
        try Data(gz.prefix(gz.count / 3)).write(to: URL(fileURLWithPath: gzPath))
        try scenario.writer.append(100, to: scenario.log)
        try scenario.daemon.start()
        usleep(500_000)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: gzPath))
        handle.seekToEndOfFile()
        handle.write(Data(gz.dropFirst(gz.count / 3)))
        try handle.close()
        // Killed while reading the .gz.
        _ = eventually { scenario.delivered.ids.count > 5000 }
        scenario.daemon.kill9()
        try scenario.daemon.start()
        scenario.finish()
    }

    /// Row 7: kill -9 in a loop while positions are written; then the state file replaced by
    /// an empty, a NUL-filled and a half file: the agent starts, logs the cause, sets the bad
    /// file aside.
    @Test func corruptStateFile() throws {
        let scenario = try Scenario("row7")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        try scenario.daemon.start()
        for _ in 0..<8 {
            try scenario.writer.append(2000, to: scenario.log)
            try scenario.killAtRandomMoment(upTo: 800)
        }
        scenario.waitForDelivery()
        let positions = scenario.environment.positions
        let corruptions: [(String, Data)] = [
            ("empty", Data()),
            ("NUL-filled", Data(repeating: 0, count: 4096)),
            (
                "half",
                (try? Data(contentsOf: URL(fileURLWithPath: positions))).map { $0.prefix($0.count / 2) } ?? Data()
            ),
        ]
        for (index, corruption) in corruptions.enumerated() {
            scenario.daemon.kill9()
            try corruption.1.write(to: URL(fileURLWithPath: positions))
            try scenario.writer.append(100, to: scenario.log)
            try scenario.daemon.start()
            let logged = eventually {
                scenario.daemon.stderr.components(separatedBy: "Positions file is corrupt").count > index + 1
            }
            #expect(logged, "\(corruption.0) state file: cause not logged")
            let aside = (try? FileManager.default.contentsOfDirectory(atPath: scenario.environment.state))?.filter {
                $0.hasPrefix("positions.json.corrupt-")
            }
            #expect(aside?.isEmpty == false, "\(corruption.0) state file not set aside")
            scenario.waitForDelivery()
        }
        scenario.finish()
    }

    /// Row 10: a 10 MB line is skipped (and logged); later lines flow; the saved offset is
    /// exactly the end of the file.
    @Test func tenMegabyteLine() throws {
        let scenario = try Scenario("row10")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        try scenario.writer.append(100, to: scenario.log)
        try scenario.daemon.start()
        var long = [UInt8](repeating: UInt8(ascii: "z"), count: 10 << 20)
        long.append(UInt8(ascii: "\n"))
        try scenario.writer.appendRaw(long, to: scenario.log)
        try scenario.writer.append(100, to: scenario.log)
        scenario.waitForDelivery()
        scenario.daemon.kill9()
        try scenario.writer.append(100, to: scenario.log)
        try scenario.daemon.start()
        scenario.finish()
        let size = (try? FileManager.default.attributesOfItem(atPath: scenario.log)[.size] as? Int) ?? -1
        let saved = (try? String(contentsOfFile: scenario.environment.positions, encoding: .utf8)) ?? ""
        #expect(saved.contains("\"offset\":\(size),"), "saved offset is not the file's end \(size): \(saved)")
        #expect(
            scenario.daemon.stderr.contains("Skipped lines longer than tail.max_line_bytes"),
            "the skipped line was not logged")
    }

    /// Row 14: 1000 files of 3 lines, 50 files with the same 2 KB header, empty files: each
    /// read once, none merged, small files not ignored.
    @Test func manySmallAndLookAlikeFiles() throws {
        let scenario = try Scenario("row14")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.logs + "/*.log"])
        try scenario.daemon.start()
        let header = Array((String(repeating: "H", count: 2048) + "\n").utf8)
        for index in 0..<1000 {
            try scenario.writer.append(3, to: scenario.logs + "/small-\(index).log")
        }
        for index in 0..<50 {
            let path = scenario.logs + "/header-\(index).log"
            try scenario.writer.appendRaw(header, to: path)
            try scenario.writer.append(5, to: path)
        }
        for index in 0..<20 {
            _ = FileManager.default.createFile(atPath: scenario.logs + "/empty-\(index).log", contents: nil)
        }
        scenario.waitForDelivery()
        // Restart: nothing is read again.
        #expect(scenario.daemon.terminate() == 0)
        for index in 0..<20 { try scenario.writer.append(1, to: scenario.logs + "/empty-\(index).log") }
        try scenario.daemon.start()
        scenario.finish(allowDuplicates: false)
    }

    /// Row 14, a header shared across a restart: the file read before the stop is deleted
    /// while the agent is down, and a *different* file that begins with the same header line
    /// arrives compressed as `app.log.1.gz`. Its first line matches the saved position's, but
    /// the bytes before the saved offset do not, so it is read whole, not resumed mid-way.
    @Test func compressedLookAlikeIsNotTakenForTheSavedFile() throws {
        let scenario = try Scenario("gzlookalike")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        let header = Array("=== application started ===\n".utf8)
        try scenario.writer.appendRaw(header, to: scenario.log)
        try scenario.writer.append(50, to: scenario.log)
        try scenario.daemon.start()
        scenario.waitForDelivery()
        #expect(scenario.daemon.terminate() == 0)

        let other = scenario.environment.root + "/other.log"
        try scenario.writer.appendRaw(header, to: other)
        try scenario.writer.append(80, to: other)
        let compressed = try gzip(Data(contentsOf: URL(fileURLWithPath: other)))
        try Data(compressed).write(to: URL(fileURLWithPath: scenario.log + ".1.gz"))
        try FileManager.default.removeItem(atPath: other)
        try FileManager.default.removeItem(atPath: scenario.log)
        try scenario.writer.append(10, to: scenario.log)
        try scenario.daemon.start()
        scenario.finish(allowDuplicates: false)
    }

    /// Row 15: files created and deleted by the thousand (scaled from 100,000 to 5,000): the
    /// saved state keeps only files that exist, and a restart on it is quick (a line written
    /// after the restart arrives within 3 s, debug build, delivery included).
    @Test func stateStaysBoundedThroughManyCreatedAndDeletedFiles() throws {
        let scenario = try Scenario("row15")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.logs + "/*.log"])
        try scenario.daemon.start()
        for batch in 0..<10 {
            let paths = (0..<500).map { scenario.logs + "/job-\(batch)-\($0).log" }
            for path in paths { try scenario.writer.append(1, to: path) }
            scenario.waitForDelivery()
            for path in paths { try FileManager.default.removeItem(atPath: path) }
        }
        try scenario.writer.append(1, to: scenario.log)
        scenario.waitForDelivery()
        let positions = scenario.environment.positions
        let settled = eventually(timeout: .seconds(30)) { savedEntries(positions) == 1 }
        #expect(settled, "saved entries after 5,000 files came and went: \(savedEntries(positions))")

        #expect(scenario.daemon.terminate() == 0)
        try scenario.daemon.start()
        let restarted = ContinuousClock.now
        try scenario.writer.append(1, to: scenario.log)
        #expect(scenario.waitForDelivery())
        let took = restarted.duration(to: .now)
        #expect(took < .seconds(3), "a line after the restart took \(took)")
        scenario.finish()
    }

    /// Row 13, the open-file limit: under systemd a service's soft limit is 1,024
    /// descriptors, and each followed file holds one. Started with 200 as its hard limit
    /// (`prlimit`), the daemon follows 136 of 300 files (the limit less its reserve), saves
    /// their positions and says so once, instead of failing every open, every save and every
    /// socket. Restarted with room, it reads the other files, and nothing twice.
    @Test func moreFilesThanTheOpenFileLimit() throws {
        let scenario = try Scenario("nofile")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.logs + "/*.log"])
        for index in 0..<300 { try scenario.writer.append(2, to: scenario.logs + "/f\(index).log") }
        scenario.daemon.launcher = ["/usr/bin/prlimit", "--nofile=200:200", "--"]
        try scenario.daemon.start()
        let positions = scenario.environment.positions
        let followed = eventually(timeout: .seconds(60)) {
            scenario.delivered.lines == 136 * 2 && savedEntries(positions) == 136
        }
        #expect(
            followed,
            "\(scenario.delivered.lines) lines delivered, \(savedEntries(positions)) positions saved; \(scenario.daemon.stderr.suffix(3000))"
        )
        let log = scenario.daemon.stderr
        #expect(
            log.components(separatedBy: "than the open-file limit lets the agent follow").count == 2,
            "\(log.suffix(3000))")
        #expect(!log.contains("Too many open files"), "\(log.suffix(3000))")

        #expect(scenario.daemon.terminate() == 0)
        scenario.daemon.launcher = []
        try scenario.daemon.start()
        scenario.finish(allowDuplicates: false)
    }

    /// Row 13, the inotify limits: the daemon runs in a user namespace of its own whose
    /// inotify limits are lowered (`/proc/sys/user/max_inotify_*` are per namespace, so the
    /// machine's own limits are untouched). With one watch for two directories, or no inotify
    /// instance at all, it says so once and polls: new files, rotations and appends in both
    /// directories are all delivered. (The CPU half of row 13, 10,000 files, is measured by
    /// `tailtrack bench`, not asserted here.)
    @Test(
        .enabled(if: InotifyLimits.canLowerInNamespace, "user namespaces are not available here"),
        arguments: [InotifyLimits.oneWatch, InotifyLimits.noInstance])
    func loweredInotifyLimitsFallBackToPolling(limits: InotifyLimits) throws {
        let scenario = try Scenario("row13")
        defer { scenario.cleanUp() }
        let first = scenario.logs + "/first"
        let second = scenario.logs + "/second"
        for directory in [first, second] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try scenario.environment.writeConfig(paths: [first + "/*.log", second + "/*.log"])
        scenario.daemon.launcher = limits.launcher
        try scenario.writer.append(10, to: first + "/app.log")
        try scenario.daemon.start()
        let said = eventually(timeout: .seconds(30)) { scenario.daemon.stderr.contains(limits.expectedMessage) }
        #expect(said, "the daemon did not say it polls; log:\n\(scenario.daemon.stderr.suffix(3000))")
        #expect(scenario.daemon.stderr.components(separatedBy: limits.expectedMessage).count - 1 == limits.messages)
        for round in 0..<3 {
            try scenario.writer.append(10, to: first + "/app.log")
            try scenario.writer.append(10, to: second + "/job-\(round).log")
            scenario.waitForDelivery()
            try FileManager.default.moveItem(atPath: first + "/app.log", toPath: first + "/app.log.\(round + 1)")
            try scenario.writer.append(5, to: first + "/app.log")
        }
        #expect(scenario.daemon.isRunning)
        scenario.finish(allowDuplicates: false)
    }

    /// The number of entries in a positions file (0 when it cannot be read).
    private func savedEntries(_ path: String) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        return text.components(separatedBy: "\"inode\"").count - 1
    }

    /// A file replaced by a different file at the same path (`mv other app.log`): the new
    /// one is read from 0, running and stopped.
    @Test func fileReplacedAtSamePath() throws {
        let scenario = try Scenario("replaced")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        try scenario.writer.append(500, to: scenario.log)
        try scenario.daemon.start()
        for round in 0..<4 {
            scenario.waitForDelivery()
            let stopped = round % 2 == 1
            if stopped { #expect(scenario.daemon.terminate() == 0) }
            let other = scenario.environment.root + "/other.log"
            try scenario.writer.append(100 + round, to: other)
            try FileManager.default.removeItem(atPath: scenario.log)
            try FileManager.default.moveItem(atPath: other, toPath: scenario.log)
            if stopped { try scenario.daemon.start() }
        }
        scenario.finish(allowDuplicates: false)
    }

    /// 200 files followed at once, written in turns, with a kill in the middle.
    @Test func twoHundredFiles() throws {
        let scenario = try Scenario("200files")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.logs + "/*.log"])
        try scenario.daemon.start()
        for round in 0..<5 {
            for index in 0..<200 { try scenario.writer.append(20, to: scenario.logs + "/f\(index).log") }
            if round == 2 { try scenario.killAtRandomMoment() }
        }
        scenario.finish()
    }

    /// Row 7 with a large state: with 1,500 files, saves between full rewrites go to
    /// `positions.journal`. Killed with -9 once the last positions are saved (in the file or
    /// its journal), the agent restarts from them: nothing is lost and nothing is read twice.
    @Test func killedWhilePositionsAreSavedThroughTheJournal() throws {
        let scenario = try Scenario("journal")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.logs + "/*.log"])
        let files = (0..<1500).map { scenario.logs + "/service-\($0).log" }
        for file in files { try scenario.writer.append(1, to: file) }
        try scenario.daemon.start()
        scenario.waitForDelivery()
        let journal = scenario.environment.state + "/positions.journal"
        let positions = scenario.environment.positions
        // A journal lives from its first append to the next full rewrite (at least a second):
        // looked for every 10 ms, it is seen if any save went to it.
        let sawJournal = Mutex(false)
        let watching = Mutex(true)
        let watcher = Thread {
            while watching.withLock({ $0 }) {
                if FileManager.default.fileExists(atPath: journal) { sawJournal.withLock { $0 = true } }
                usleep(10_000)
            }
        }
        watcher.start()
        defer { watching.withLock { $0 = false } }
        func saved() -> [String: Int] { savedOffsets([positions, journal]) }
        func size(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? -1
        }
        // Every file's first line saved (not only its entry, which exists from the open on):
        // from here on a save holds only the rounds' changes, few enough for the journal.
        #expect(
            eventually {
                let offsets = saved()
                return files.allSatisfy { offsets[$0] == size($0) }
            }, "every file's first line saved")
        let written = Array(files.prefix(100))
        for round in 0..<3 {
            for file in written { try scenario.writer.append(1 + round, to: file) }
            scenario.waitForDelivery()
        }
        let done = eventually(timeout: .seconds(20)) {
            let offsets = saved()
            return written.allSatisfy { offsets[$0] == size($0) }
        }
        let offsets = saved()
        let behind = written.filter { offsets[$0] != size($0) }.map {
            "\($0): saved \(offsets[$0] ?? -1) of \(size($0))"
        }
        #expect(done, "the last positions were never saved: \(behind)")
        #expect(sawJournal.withLock { $0 }, "no save went to positions.journal")
        scenario.daemon.kill9()
        try scenario.daemon.start()
        try scenario.writer.append(5, to: files[1400])
        scenario.finish(allowDuplicates: false)
    }
}

/// The offset saved for each path in a positions file and then its journal, read the way the
/// agent reads them (later records win; the journal's lines are the same objects).
func savedOffsets(_ paths: [String]) -> [String: Int] {
    var offsets: [String: Int] = [:]
    for path in paths {
        let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        for line in text.split(separator: "\n") {
            guard let pathStart = line.range(of: "\"path\":\""), let offsetStart = line.range(of: "\"offset\":")
            else { continue }
            let name = line[pathStart.upperBound...].prefix { $0 != "\"" }
            let digits = line[offsetStart.upperBound...].prefix { $0.isNumber }
            offsets[String(name)] = Int(digits)
        }
    }
    return offsets
}

/// A dated rotation suffix (`-20261123120042`): later rotations sort newer, as dateext names do.
func datedSuffix(_ rotation: Int) -> String {
    "-2026112312" + String(format: "%04d", rotation)
}

extension Data {
    /// The index just after the first `byte` at or after `start` (or the end).
    func firstIndex(of byte: UInt8, after start: Int) -> Int {
        var index = start
        while index < count && self[index] != byte { index += 1 }
        return Swift.min(index + 1, count)
    }
}

/// `gzip -c` of `data`, one member.
func gzip(_ data: Data) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-c"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    let writer = Thread {
        input.fileHandleForWriting.write(data)
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    let result = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return [UInt8](result)
}

/// Lowered inotify limits for one daemon: a `unshare --user` launcher that writes the limit
/// into the new namespace's `/proc/sys/user` before it `exec`s the daemon.
struct InotifyLimits: CustomTestStringConvertible, Sendable {
    let limitFile: String
    let limit: Int
    let expectedMessage: String
    /// How many times the message is logged (once per directory that could not be watched).
    let messages: Int

    var testDescription: String { "\(limitFile)=\(limit)" }

    /// One watch for two directories: the first is watched, the second polled.
    static let oneWatch = InotifyLimits(
        limitFile: "max_inotify_watches", limit: 1,
        expectedMessage: "the inotify watch limit is reached (fs.inotify.max_user_watches)", messages: 1)
    /// No inotify instance at all.
    static let noInstance = InotifyLimits(
        limitFile: "max_inotify_instances", limit: 0, expectedMessage: "inotify is not available", messages: 1)

    var launcher: [String] {
        [
            "/usr/bin/unshare", "--user", "--map-root-user", "/bin/sh", "-c",
            "echo \(limit) > /proc/sys/user/\(limitFile) && exec \"$0\" \"$@\"",
        ]
    }

    /// Whether this machine lets a process lower the limits in a user namespace of its own.
    static let canLowerInNamespace: Bool = {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["--user", "--map-root-user", "/bin/sh", "-c", "echo 1 > /proc/sys/user/max_inotify_watches"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()
}
