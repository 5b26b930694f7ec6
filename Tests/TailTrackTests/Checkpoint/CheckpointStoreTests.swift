import Foundation
import Logging
import Testing

@testable import TailTrack

@Suite struct CheckpointStoreTests {
    private let logger = Logger(label: "test")

    private func entry(_ index: Int, updated: Int64 = 1_800_000_000) -> CheckpointEntry {
        CheckpointEntry(
            source: "app", path: "/var/log/app \"\(index)\".log", device: 2049, inode: UInt64(index),
            fingerprint: FileFingerprint(value: UInt64.max - UInt64(index), length: 40), offset: UInt64(index) * 100,
            tailHash: index.isMultiple(of: 2) ? nil : 0xDEAD_BEEF_0000_0000 + UInt64(index), size: 12345,
            updated: updated)
    }

    @Test func roundTrips() throws {
        let directory = try TemporaryDirectory()
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        let written = (1...5).map { entry($0) }
        for item in written { store.update(item) }
        store.update(
            CheckpointEntry(
                source: "app", path: "/empty", device: 1, inode: 99, fingerprint: nil, offset: 0, tailHash: nil,
                size: 0, updated: 5))
        try store.save()
        let reopened = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        #expect(reopened.entries.count == 6)
        for item in written {
            #expect(reopened.entry(for: item.key) == item)
        }
        #expect(reopened.entry(for: CheckpointKey(source: "app", device: 1, inode: 99))?.fingerprint == nil)
        #expect(!FileManager.default.fileExists(atPath: store.path + ".tmp"))
    }

    /// Saves re-encode only the entries that changed: after updates, renames, removals and
    /// garbage collection, the saved file holds exactly the store's entries, each line what
    /// encoding that entry afresh gives, and a valid checksum.
    @Test func incrementalSavesWriteWhatAFullEncodeWrites() throws {
        let directory = try TemporaryDirectory()
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        func expectSavedMatchesStore(_ comment: Comment) throws {
            try store.save()
            let content = Array(try Data(contentsOf: URL(fileURLWithPath: store.path)))
            let decoded = try CheckpointStore.decode(content).get().entries
            #expect(
                Set(decoded.map(\.key)) == Set(store.entries.map(\.key)) && decoded.count == store.entries.count,
                comment)
            for entry in decoded { #expect(store.entry(for: entry.key) == entry, comment) }
            let lines = Set(String(decoding: content, as: UTF8.self).split(separator: "\n").map(String.init))
            for entry in store.entries {
                let line = String(decoding: CheckpointStore.encodeLine(entry), as: UTF8.self)
                #expect(lines.contains(line) || lines.contains(line + ","), comment)
            }
        }
        for index in 1...20 { store.update(entry(index)) }
        try expectSavedMatchesStore("first save")
        var moved = entry(3)
        moved.offset = 999
        store.update(moved)
        try expectSavedMatchesStore("one offset moved")
        var renamed = entry(4)
        renamed.path = "/var/log/zz.log.1"
        store.update(renamed)
        store.remove(entry(7).key)
        try expectSavedMatchesStore("renamed and removed")
        store.collectGarbage(active: [], maxAgeSeconds: 10, now: 1_800_000_100)
        store.update(entry(30, updated: 1_800_000_004))
        try expectSavedMatchesStore("collected")
        #expect(
            try CheckpointStore(stateDirectory: directory.path, logger: logger).entries == [
                entry(30, updated: 1_800_000_004)
            ])
    }

    /// Every kind of damaged file: set aside, empty state, no throw.
    @Test(arguments: ["empty", "nul", "half", "garbage", "tampered"])
    func corruptFileIsSetAside(kind: String) throws {
        let directory = try TemporaryDirectory()
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        for index in 1...20 { store.update(entry(index)) }
        try store.save()
        let good = try Data(contentsOf: URL(fileURLWithPath: store.path))
        let bad: Data
        switch kind {
        case "empty": bad = Data()
        case "nul": bad = Data(count: good.count)
        case "half": bad = good.prefix(good.count / 2)
        case "garbage": bad = Data("not json at all\n".utf8)
        default:
            bad = Data(
                String(decoding: good, as: UTF8.self).replacingOccurrences(of: "\"offset\":100", with: "\"offset\":900")
                    .utf8)
        }
        try bad.write(to: URL(fileURLWithPath: store.path))
        let reopened = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        #expect(reopened.entries.isEmpty)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(names.contains { $0.hasPrefix("positions.json.corrupt-") })
        #expect(!names.contains("positions.json"))
        // It keeps working: the next save is valid again.
        reopened.update(entry(1))
        try reopened.save()
        #expect(try CheckpointStore(stateDirectory: directory.path, logger: logger).entries == [entry(1)])
    }

    @Test func aLeftoverTemporaryFileDoesNotMatter() throws {
        let directory = try TemporaryDirectory()
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        store.update(entry(1))
        try store.save()
        // A crash while writing the next state leaves a torn temporary file behind.
        try Data("{\"version\":1,\"entries\":[\n{\"sou".utf8).write(to: URL(fileURLWithPath: store.path + ".tmp"))
        #expect(try CheckpointStore(stateDirectory: directory.path, logger: logger).entries == [entry(1)])
    }

    @Test func garbageCollectsStaleAndExcessEntries() throws {
        let directory = try TemporaryDirectory()
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        for index in 1...10 { store.update(entry(index, updated: Int64(index))) }
        let removed = store.collectGarbage(
            active: [entry(1).key], maxAgeSeconds: 100, maxEntries: 4, now: 105)
        // 1 is active; 2…4 are older than 100 s; of 5…10, the oldest go until 4 remain.
        #expect(removed == 6)
        #expect(Set(store.entries.map(\.inode)) == [1, 8, 9, 10])
    }

    @Test func throttlesSaves() throws {
        let directory = try TemporaryDirectory()
        let store = try CheckpointStore(
            stateDirectory: directory.path, logger: logger, minimumSaveInterval: .seconds(60))
        #expect(try store.saveIfDue() == false)
        store.update(entry(1))
        #expect(try store.saveIfDue() == true)
        store.update(entry(2))
        #expect(try store.saveIfDue() == false)
        try store.save()
        #expect(try CheckpointStore(stateDirectory: directory.path, logger: logger).entries.count == 2)
    }

    /// Correctness at scale only: how fast it loads is measured by `tailtrack bench`, not asserted here.
    @Test func loadsOneHundredThousandEntries() throws {
        let directory = try TemporaryDirectory()
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        for index in 1...100_000 { store.update(entry(index)) }
        try store.save()
        let loaded = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        #expect(loaded.entries.count == 100_000)
    }

    @Test func errorNamesPathAndCause() {
        let error = FileOperationError(path: "/var/lib/tailtrack/positions.json", operation: "write", errno: ENOSPC)
        #expect(
            error.description == "could not write /var/lib/tailtrack/positions.json: No space left on device (errno 28)"
        )
    }
}
