import Foundation
import Testing

@testable import TailTrack

@Suite struct RotatedSiblingsTests {
    @Test func findsTheFollowedPathOfARotatedName() {
        #expect(RotatedSiblings.base(of: "/var/log/app.log.1") == "/var/log/app.log")
        #expect(RotatedSiblings.base(of: "/var/log/app.log.2.gz") == "/var/log/app.log")
        #expect(RotatedSiblings.base(of: "/var/log/app.log-20261123") == "/var/log/app.log")
        #expect(RotatedSiblings.base(of: "/var/log/app.log-20261123.gz") == "/var/log/app.log")
        #expect(RotatedSiblings.base(of: "/var/log/app.log.gz") == "/var/log/app.log")
        #expect(RotatedSiblings.base(of: "/var/log/app.log") == nil)
        #expect(RotatedSiblings.base(of: "/var/log/app-2026-11-23.log") == nil)
        #expect(RotatedSiblings.candidateBases(of: "a.log.1.gz") == ["a.log", "a.log.1"])
    }

    /// One listing serves every file of a directory, with `rotated_dir` (olddir) included, and
    /// `fresh` sees files that appeared after the first listing.
    @Test func siblingIndexListsNextToTheFileAndInTheRotatedDirectory() throws {
        let directory = try TemporaryDirectory()
        let root = directory.path
        try FileManager.default.createDirectory(atPath: root + "/old", withIntermediateDirectories: true)
        for name in ["app.log", "app.log.1", "app.log.3.gz", "web.log", "web.log-20261122", "old/app.log.2"] {
            _ = FileManager.default.createFile(atPath: root + "/" + name, contents: Data("x\n".utf8))
        }
        var index = SiblingIndex()
        #expect(
            index.list(of: root + "/app.log", rotatedDirectory: "old").map(\.path) == [
                root + "/app.log.3.gz", root + "/old/app.log.2", root + "/app.log.1",
            ])
        #expect(index.list(of: root + "/web.log").map(\.path) == [root + "/web.log-20261122"])
        _ = FileManager.default.createFile(atPath: root + "/web.log-20261123", contents: Data("y\n".utf8))
        #expect(index.list(of: root + "/web.log").count == 1, "listed once per index")
        #expect(index.list(of: root + "/web.log", fresh: true).count == 2)
    }
}

@Suite struct WakeupTests {
    @Test func aSignalBeforeTheWaitEndsItAtOnceAndOnlyOnce() async {
        let wakeup = Wakeup()
        wakeup.signal(scan: true, written: ["/a.log"])
        let started = ContinuousClock.now
        await wakeup.wait(upTo: .seconds(60))
        #expect(started.duration(to: .now) < .seconds(30))
        let changes = wakeup.takeChanges()
        #expect(changes.scan && changes.written == ["/a.log"])
        #expect(!wakeup.takeChanges().scan)
        // No signal left over: this wait runs to its timeout.
        let second = ContinuousClock.now
        await wakeup.wait(upTo: .milliseconds(100))
        #expect(second.duration(to: .now) >= .milliseconds(100))
    }

    @Test func aSignalDuringTheWaitEndsIt() async {
        let wakeup = Wakeup()
        let started = ContinuousClock.now
        async let waited: Void = wakeup.wait(upTo: .seconds(60))
        try? await Task.sleep(for: .milliseconds(50))
        wakeup.signal()
        await waited
        // Well before the timeout: the signal ended it (the parallel suite's synchronous tests
        // can keep the cooperative threads busy for seconds before the waiter runs again).
        #expect(started.duration(to: .now) < .seconds(30))
    }

    /// A thousand waits ended early by signals leave one timer running, not a thousand.
    @Test func waitsEndedBySignalsShareTheirTimer() async {
        let wakeup = Wakeup()
        for _ in 0..<1000 {
            async let waited: Void = wakeup.wait(upTo: .seconds(60))
            // The first wait arms the timer; the others find it running.
            while wakeup.runningTimers == 0 { await Task.yield() }
            wakeup.signal()
            await waited
        }
        #expect(wakeup.runningTimers == 1)
    }

    /// A wait that relies on an earlier timer still lasts its own timeout when that timer
    /// fires first.
    @Test func aWaitLastsItsOwnTimeoutWhenAnEarlierTimerFiresFirst() async {
        let wakeup = Wakeup()
        // Arms a 100 ms timer, then ends at once.
        async let first: Void = wakeup.wait(upTo: .milliseconds(100))
        while wakeup.runningTimers == 0 { await Task.yield() }
        wakeup.signal()
        await first
        let started = ContinuousClock.now
        await wakeup.wait(upTo: .milliseconds(400))
        let waited = started.duration(to: .now)
        #expect(waited >= .milliseconds(400))
        #expect(waited < .seconds(30))
    }

    @Test func tooManyWrittenFilesBecomeAScan() {
        let wakeup = Wakeup()
        wakeup.signal(written: Set((0...DirectoryChange.maximumNamed).map { "/f\($0).log" }))
        let changes = wakeup.takeChanges()
        #expect(changes.scan && changes.written.isEmpty)
    }
}
