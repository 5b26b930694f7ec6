import Foundation
import Logging
import Testing

@testable import TailTrack

/// The checkpoint service owns saving: positions the inputs record are saved soon after they
/// change, and once more when the service stops.
@Suite struct CheckpointServiceTests {
    private let logger = Logger(label: "test")

    private func entry(_ offset: UInt64) -> CheckpointEntry {
        CheckpointEntry(
            source: "app", path: "/var/log/app.log", device: 1, inode: 2,
            fingerprint: FileFingerprint(value: 42, length: 10), offset: offset, tailHash: 7, size: 1_000,
            updated: 1_800_000_000)
    }

    /// The offset `positions.json` holds now, read as a restart would.
    private func savedOffset(_ directory: TemporaryDirectory) throws -> UInt64? {
        try CheckpointStore(stateDirectory: directory.path, logger: logger).entries.first?.offset
    }

    @Test func aChangedPositionIsSavedWithoutAStop() async throws {
        let directory = try TemporaryDirectory()
        let store = try CheckpointStore(
            stateDirectory: directory.path, logger: logger, minimumSaveInterval: .milliseconds(20))
        let service = CheckpointService(store: store, logger: logger)
        let running = Task { try await service.run() }
        store.update(entry(100))
        let deadline = ContinuousClock.now + .seconds(20)
        while try savedOffset(directory) != 100, ContinuousClock.now < deadline {
            // Polls the file as a restart would read it; nothing to await in-process.
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try savedOffset(directory) == 100)
        running.cancel()
        try await running.value
    }

    @Test func theFinalSaveHoldsTheLastPosition() async throws {
        let directory = try TemporaryDirectory()
        // An interval far longer than the test: only the final save can write the file.
        let store = try CheckpointStore(
            stateDirectory: directory.path, logger: logger, minimumSaveInterval: .seconds(600))
        let service = CheckpointService(store: store, logger: logger)
        let running = Task { try await service.run() }
        store.update(entry(100))
        store.update(entry(250))
        running.cancel()
        try await running.value
        #expect(try savedOffset(directory) == 250)
        #expect(service.saveFailures() == 0)
    }

    @Test func aFailedFinalSaveIsCountedAndThrown() async throws {
        let directory = try TemporaryDirectory()
        let store = try CheckpointStore(
            stateDirectory: directory.path, logger: logger, minimumSaveInterval: .seconds(600))
        let service = CheckpointService(store: store, logger: logger)
        store.update(entry(100))
        // The state directory is gone: the save cannot create its temporary file.
        try FileManager.default.removeItem(atPath: directory.path)
        #expect(throws: FileOperationError.self) { try service.finalSave() }
        #expect(service.saveFailures() == 1)
    }
}
