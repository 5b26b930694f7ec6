import Foundation
import Logging
import Synchronization
import Testing

@testable import TailTrack

/// The inotify watcher: a burst of writes to many files is handed over as one change.
@Suite struct DirectoryWatcherTests {
    /// The changes a watcher handed over, in order.
    private final class Changes: Sendable {
        let received = Mutex<[DirectoryChange]>([])

        /// Waits until `count` changes arrived, or fails after `timeout`.
        func waitFor(_ count: Int, timeout: Duration = .seconds(10)) async -> [DirectoryChange] {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let now = received.withLock { $0 }
                if now.count >= count { return now }
                try? await Task.sleep(for: .milliseconds(5))
            }
            let now = received.withLock { $0 }
            Issue.record("timed out waiting for \(count) changes; got \(now.count): \(now.map(\.modified))")
            return now
        }
    }

    /// A watcher on `directory/*.log` that records what it hands over.
    private func watching(_ directory: TemporaryDirectory, gatherMilliseconds: Int32) throws -> (
        DirectoryWatcher, Changes
    ) {
        let changes = Changes()
        let watcher = try #require(
            DirectoryWatcher(
                patterns: [directory.file("*.log")], logger: Logger(label: "test"),
                gatherMilliseconds: gatherMilliseconds
            ) { change in changes.received.withLock { $0.append(change) } })
        return (watcher, changes)
    }

    @Test func aBurstOfWritesToManyFilesIsOneChangeNamingThemAll() async throws {
        let directory = try TemporaryDirectory()
        let names = (0..<50).map { "f\($0).log" }
        for name in names + ["marker.log"] { try directory.write(name, "") }
        // A long gather, so that the 50 writes surely fall inside it on a busy machine.
        let (watcher, changes) = try watching(directory, gatherMilliseconds: 500)
        defer { watcher.stop() }

        for name in names { try directory.append(name, "a line\n") }
        let first = await changes.waitFor(1)
        // A write after the first hand-over comes as a change of its own: the burst was one.
        try directory.append("marker.log", "a line\n")
        let all = await changes.waitFor(2)

        #expect(first.count == 1)
        #expect(first.first?.modified == Set(names.map(directory.file)))
        #expect(first.first?.needsScan == false)
        #expect(all.count == 2)
        #expect(all.last?.modified == [directory.file("marker.log")])
    }

    @Test func aCreatedFileAsksForAScan() async throws {
        let directory = try TemporaryDirectory()
        let (watcher, changes) = try watching(directory, gatherMilliseconds: 1)
        defer { watcher.stop() }

        try directory.write("new.log", "a line\n")
        let received = await changes.waitFor(1)

        #expect(received.first?.needsScan == true)
    }
}
