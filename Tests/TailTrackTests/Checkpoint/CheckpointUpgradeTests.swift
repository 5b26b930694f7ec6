import Foundation
import Logging
import Testing

@testable import TailTrack

/// State files written by the release before the architecture refactor (issue 21) resume
/// exactly: every entry, offset, fingerprint and tail hash as it was saved.
///
/// The fixtures in `Fixtures/` were written by that release's `CheckpointStore` from the
/// entries ``UpgradeFixture`` describes: `small/` a `positions.json` of a few files (one
/// without a fingerprint yet, one `.gz`), `large/` a state past the journal threshold with a
/// `positions.journal` appended after its last full rewrite (5 entries moved, 2 removed).
@Suite struct CheckpointUpgradeTests {
    private let logger = Logger(label: "test")

    static let fixtures: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.path + "/Fixtures"
    }()

    /// Copies a fixture folder into a fresh temporary directory, as a state directory.
    private func stateDirectory(copying name: String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.fixtures + "/" + name) {
            try FileManager.default.copyItem(
                atPath: Self.fixtures + "/" + name + "/" + file, toPath: directory.path + "/" + file)
        }
        return directory
    }

    private func loaded(_ directory: TemporaryDirectory) throws -> [CheckpointKey: CheckpointEntry] {
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        return Dictionary(uniqueKeysWithValues: store.entries.map { ($0.key, $0) })
    }

    @Test func aSmallStateFromThePreviousReleaseResumesExactly() throws {
        let directory = try stateDirectory(copying: "small")
        #expect(try loaded(directory) == UpgradeFixture.small)
    }

    @Test func aLargeStateWithItsJournalResumesExactly() throws {
        let directory = try stateDirectory(copying: "large")
        #expect(FileManager.default.fileExists(atPath: directory.path + "/positions.journal"))
        #expect(try loaded(directory) == UpgradeFixture.large)
    }

    @Test func aResavedStateReadsBackTheSame() throws {
        let directory = try stateDirectory(copying: "large")
        let store = try CheckpointStore(stateDirectory: directory.path, logger: logger)
        try store.save()
        #expect(try loaded(directory) == UpgradeFixture.large)
    }
}

/// The entries the upgrade fixtures hold.
enum UpgradeFixture {
    static func entry(_ index: Int, source: String = "app", offset: UInt64? = nil) -> CheckpointEntry {
        CheckpointEntry(
            source: source, path: "/var/log/app/service-\(index).log", device: 2049, inode: UInt64(index),
            fingerprint: FileFingerprint(value: UInt64(index) &* 0x9E37_79B9, length: 80),
            offset: offset ?? UInt64(index) * 10, tailHash: 0xABCD_0000 + UInt64(index), size: 1_000_000,
            updated: 1_800_000_000)
    }

    static var small: [CheckpointKey: CheckpointEntry] {
        var entries = [entry(1), entry(2, source: "nginx")]
        entries.append(
            CheckpointEntry(
                source: "app", path: "/var/log/app/new.log", device: 2049, inode: 77, fingerprint: nil, offset: 0,
                tailHash: nil, size: 12, updated: 1_800_000_001))
        entries.append(
            CheckpointEntry(
                source: "app", path: "/var/log/app/service.log.2.gz", device: 2049, inode: 78,
                fingerprint: FileFingerprint(value: 0x1234_5678_9ABC_DEF0, length: 64), offset: 123_456,
                tailHash: nil, size: 4_096, updated: 1_800_000_002))
        return Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0) })
    }

    static let largeCount = 2000
    static let moved = [3, 500, 1000, 1500, 1999]
    static let removed = [7, 8]

    static var large: [CheckpointKey: CheckpointEntry] {
        var entries: [CheckpointKey: CheckpointEntry] = [:]
        for index in 0..<largeCount { entries[entry(index).key] = entry(index) }
        for index in moved { entries[entry(index).key] = entry(index, offset: UInt64(index) * 10 + 777) }
        for index in removed { entries[entry(index).key] = nil }
        return entries
    }
}
