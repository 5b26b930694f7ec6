import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Saves the positions the inputs record in the ``CheckpointStore``: at most once per
/// ``CheckpointStore/saveInterval`` while they change, and once more when the agent stops.
///
/// The one owner of saving, whatever the input kind: inputs only update the store's entries
/// as their lines are acknowledged. It is the first service of the agent's `ServiceGroup`, so
/// that a graceful shutdown stops it last — after the inputs stopped reading and delivery
/// flushed what was queued — and its final save holds every acknowledgement. It idles without
/// waking up while nothing changes, and saves on a thread of its own (a save fsyncs) rather
/// than on the cooperative pool.
public final class CheckpointService: Service, Sendable {
    private let store: CheckpointStore
    private let logger: Logger
    private let health = Mutex(CheckpointSaveHealth())

    public init(store: CheckpointStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Saves as positions change until graceful shutdown or cancellation, then saves the
    /// final state. Throws only when that final save fails.
    public func run() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.store.waitForChanges()
                // Changes usually come in runs (a batch acknowledged after another): save at
                // most once per interval, and retry a failed save after the same interval.
                try? await Task.sleep(for: self.store.saveInterval)
                guard !Task.isCancelled else { break }
                _ = try? await pool.runIfActive { self.saveIfDue() }
            }
        }
        try finalSave()
    }

    /// One periodic save, its failure logged once (not at every retry) and counted.
    private func saveIfDue() {
        do {
            if try store.saveIfDue() {
                health.withLock { $0.succeeded(logger: logger) }
            }
        } catch {
            health.withLock { $0.failed(error, path: store.path, logger: logger) }
        }
    }

    /// The save at stop: the whole state, whatever was saved before.
    public func finalSave() throws {
        do {
            try store.save()
        } catch {
            health.withLock { $0.failed(error, path: store.path, logger: logger) }
            throw error
        }
    }

    /// Saves that failed (a full disk, a read-only state directory), since start.
    public func saveFailures() -> Int {
        health.withLock { $0.failures }
    }
}

/// Whether saving the positions works: a failing save (disk full, state directory read-only)
/// is logged once when it starts failing and once when it works again, not at every retry,
/// and counted for `tailtrack_checkpoint_save_failures_total`.
struct CheckpointSaveHealth {
    /// Failed saves since start.
    private(set) var failures = 0
    private var failingSince: ContinuousClock.Instant?
    private var failuresInARow = 0

    mutating func failed(_ error: any Error, path: String, logger: Logger) {
        failures += 1
        failuresInARow += 1
        guard failingSince == nil else { return }
        failingSince = .now
        logger.error(
            """
            Cannot save positions; retrying every second. Delivery goes on and positions are kept in memory, \
            but a restart before a save succeeds reads again what was delivered since the last save
            """,
            metadata: ["checkpoint.path": "\(path)", "error": "\(error)"])
    }

    mutating func succeeded(logger: Logger) {
        guard let since = failingSince else { return }
        logger.notice(
            "Positions saved again",
            metadata: [
                "failed_for_seconds": "\(Int(since.duration(to: .now).components.seconds))",
                "failed_saves": "\(failuresInARow)",
            ])
        failingSince = nil
        failuresInARow = 0
    }
}
