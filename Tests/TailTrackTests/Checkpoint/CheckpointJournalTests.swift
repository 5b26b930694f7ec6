import Foundation
import Logging
import Synchronization
import Testing

@testable import TailTrack

/// `positions.journal`: with a large state, saves between full rewrites append only what
/// changed; a restart folds the journal in, ignores a stale one and stops at a torn line.
@Suite struct CheckpointJournalTests {
    private let logger = Logger(label: "test")

    private func entry(_ index: Int, offset: UInt64? = nil) -> CheckpointEntry {
        CheckpointEntry(
            source: "app", path: "/var/log/app/service-\(index).log", device: 2049, inode: UInt64(index),
            fingerprint: FileFingerprint(value: UInt64(index) &* 0x9E37_79B9, length: 80),
            offset: offset ?? UInt64(index) * 10, tailHash: 0xABCD_0000 + UInt64(index), size: 1_000_000,
            updated: 1_800_000_000)
    }

    /// A store of `count` entries, saved whole once (a fresh store's first save always is).
    private func largeStore(_ directory: TemporaryDirectory, count: Int = 2000) throws -> CheckpointStore {
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger, minimumSaveInterval: .zero)
        for index in 0..<count { store.update(entry(index)) }
        #expect(try store.saveIfDue())
        #expect(!FileManager.default.fileExists(atPath: store.journalPath))
        return store
    }

    private func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    private func reopened(_ directory: TemporaryDirectory) throws -> [CheckpointKey: CheckpointEntry] {
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        return Dictionary(uniqueKeysWithValues: store.entries.map { ($0.key, $0) })
    }

    @Test func largeStateAppendsChangesAndARestartFoldsThemIn() throws {
        let directory = try TemporaryDirectory()
        let store = try largeStore(directory)
        let full = contents(store.path)
        store.update(entry(5, offset: 5555))
        store.update(entry(6, offset: 6666))
        store.remove(entry(7).key)
        store.update(entry(5000))
        #expect(try store.saveIfDue())
        #expect(contents(store.path) == full, "positions.json is not rewritten")
        let journal = String(decoding: contents(store.journalPath) ?? Data(), as: UTF8.self)
        let lines = journal.split(separator: "\n")
        #expect(lines.count == 5, "a header and one line per change: \(journal)")
        #expect(lines.first?.hasPrefix("{\"journal_of_generation\":1}\t") == true)

        let restored = try reopened(directory)
        let sameAsTheStore = restored == Dictionary(uniqueKeysWithValues: store.entries.map { ($0.key, $0) })
        #expect(sameAsTheStore, "the restart holds exactly the store's entries")
        #expect(restored[entry(5).key]?.offset == 5555)
        #expect(restored[entry(7).key] == nil)
        #expect(restored.count == 2000)

        // A clean stop rewrites the whole file and removes the journal.
        try store.save()
        #expect(!FileManager.default.fileExists(atPath: store.journalPath))
        let sameAfterTheRewrite = try reopened(directory) == restored
        #expect(sameAfterTheRewrite)
    }

    @Test func aTornLastLineKeepsThatEntrysOlderPosition() throws {
        let directory = try TemporaryDirectory()
        let store = try largeStore(directory)
        store.update(entry(1, offset: 111))
        #expect(try store.saveIfDue())
        store.update(entry(2, offset: 222))
        #expect(try store.saveIfDue())
        var journal = try #require(contents(store.journalPath))
        journal.removeLast(20)  // the crash cut the last append short
        try journal.write(to: URL(fileURLWithPath: store.journalPath))

        let restored = try reopened(directory)
        #expect(restored[entry(1).key]?.offset == 111)
        #expect(restored[entry(2).key]?.offset == entry(2).offset, "the torn record is not applied")
    }

    @Test func aJournalFromBeforeTheLastRewriteIsIgnored() throws {
        let directory = try TemporaryDirectory()
        let store = try largeStore(directory)
        store.update(entry(1, offset: 111))
        #expect(try store.saveIfDue())
        let stale = try #require(contents(store.journalPath))
        store.update(entry(1, offset: 999))
        try store.save()
        // A crash between the rewrite's rename and the journal's removal leaves this behind.
        try stale.write(to: URL(fileURLWithPath: store.journalPath))

        #expect(try reopened(directory)[entry(1).key]?.offset == 999)
    }

    @Test func theJournalIsFoldedIntoARewriteBeforeItOutgrowsTheState() throws {
        let directory = try TemporaryDirectory()
        let store = try largeStore(directory)
        var rewrites = 0
        var last = contents(store.path)
        for round in 1...40 {
            for index in 0..<100 { store.update(entry(index, offset: UInt64(round * 1000 + index))) }
            #expect(try store.saveIfDue())
            let now = contents(store.path)
            if now != last { rewrites += 1 }
            last = now
            let journalSize = contents(store.journalPath)?.count ?? 0
            #expect(journalSize <= (now?.count ?? 0), "round \(round)")
        }
        #expect(rewrites >= 1)
        #expect(try reopened(directory)[entry(42).key]?.offset == 40_042)
    }

    /// A large state keeps no encoded line per entry between rewrites (memory per followed
    /// file): each full rewrite encodes every entry afresh, from a state that was small and
    /// kept its lines, and after changes the journal carried.
    @Test func aStateThatGrowsPastTheThresholdIsRewrittenFromItsEntries() throws {
        let directory = try TemporaryDirectory()
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger, minimumSaveInterval: .zero)
        for index in 0..<10 { store.update(entry(index)) }
        #expect(try store.saveIfDue())
        for index in 10..<2000 { store.update(entry(index)) }
        store.update(entry(3, offset: 333))
        #expect(try store.saveIfDue())
        store.update(entry(4, offset: 444))
        #expect(try store.saveIfDue())
        #expect(FileManager.default.fileExists(atPath: store.journalPath))
        for round in 1...2 {
            try store.save()
            let saved = try CheckpointStore.decode(Array(try #require(contents(store.path)))).get()
            let savedByKey = Dictionary(uniqueKeysWithValues: saved.entries.map { ($0.key, $0) })
            let sameAsTheStore = savedByKey == Dictionary(uniqueKeysWithValues: store.entries.map { ($0.key, $0) })
            #expect(sameAsTheStore, "rewrite \(round)")
            #expect(savedByKey[entry(3).key]?.offset == 333)
            #expect(savedByKey[entry(4).key]?.offset == 444)
            #expect(savedByKey.count == 2000)
        }
    }

    @Test func aSmallStateIsRewrittenWholeEveryTime() throws {
        let directory = try TemporaryDirectory()
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger, minimumSaveInterval: .zero)
        for index in 0..<10 { store.update(entry(index)) }
        #expect(try store.saveIfDue())
        store.update(entry(3, offset: 333))
        #expect(try store.saveIfDue())
        #expect(!FileManager.default.fileExists(atPath: store.journalPath))
        let saved = try CheckpointStore.decode(Array(try #require(contents(store.path)))).get()
        #expect(saved.generation == 2)
        #expect(saved.entries.first { $0.key == entry(3).key }?.offset == 333)
    }

    /// A journal that cannot be written (here a directory in its place): the save rewrites the
    /// whole file instead, and says so once, not at every save.
    @Test func anUnwritableJournalFallsBackToRewritesAndIsReportedOnce() throws {
        let directory = try TemporaryDirectory()
        let logs = CapturedLogs()
        let store = try CheckpointStore(
            stateDirectory: directory.path, logger: logs.logger(), minimumSaveInterval: .zero)
        for index in 0..<2000 { store.update(entry(index)) }
        #expect(try store.saveIfDue())
        try FileManager.default.createDirectory(atPath: store.journalPath, withIntermediateDirectories: false)
        for round in 1...3 {
            store.update(entry(1, offset: UInt64(round)))
            #expect(try store.saveIfDue())
            let saved = try CheckpointStore.decode(Array(try #require(contents(store.path)))).get()
            #expect(saved.entries.first { $0.key == entry(1).key }?.offset == UInt64(round))
        }
        #expect(logs.messages(at: .warning).filter { $0.contains("positions journal") }.count == 1)
    }

    /// A positions file from before the journal (no `generation`) loads as generation 0, and
    /// the first save writes generation 1.
    @Test func aFileWithoutAGenerationLoads() throws {
        let directory = try TemporaryDirectory()
        var body = Array("{\"version\":1,\"entries\":[\n".utf8) + CheckpointStore.encodeLine(entry(1)) + [0x0A]
        CheckpointStore.seal(&body)
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        try Data(body).write(to: URL(fileURLWithPath: directory.file("positions.json")))
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger, minimumSaveInterval: .zero)
        #expect(store.entries == [entry(1)])
        store.update(entry(1, offset: 99))
        #expect(try store.saveIfDue())
        let saved = try CheckpointStore.decode(Array(try #require(contents(store.path)))).get()
        #expect(saved.generation == 1)
        #expect(saved.entries == [entry(1, offset: 99)])
    }

    /// Updates keep coming while saves run (acknowledgements arrive on other threads): after
    /// the last save, the file and its journal hold every entry's last value.
    @Test func updatesDuringASaveAreInTheNextOne() throws {
        let directory = try TemporaryDirectory()
        let store = try largeStore(directory)
        let stop = Mutex(false)
        let updater = Thread {
            var round: UInt64 = 1
            while !stop.withLock({ $0 }) {
                for index in 0..<50 { store.update(entry(index, offset: round * 100 + UInt64(index))) }
                round += 1
            }
        }
        updater.start()
        // Full rewrites (the slow saves, with the widest window) while updates come in; the
        // last save after the updates stop is a journal append of what the rewrites missed.
        var saves = 0
        let deadline = ContinuousClock.now + .milliseconds(600)
        while ContinuousClock.now < deadline {
            try store.save()
            saves += 1
        }
        stop.withLock { $0 = true }
        while !updater.isFinished { usleep(1000) }
        _ = try store.saveIfDue()
        #expect(saves > 3)
        let restored = try reopened(directory)
        let stale = store.entries.filter { restored[$0.key] != $0 }.map(\.path)
        #expect(stale.isEmpty, "entries saved with an older value: \(stale)")
    }
}
