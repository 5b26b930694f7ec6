import Logging
import NIOPosix
import Synchronization

/// Follows the files of every configured source and hands their lines over in chunks,
/// so that each line written to a followed file is read exactly once per position, whatever
/// logrotate, the application or a crash does.
///
/// ## Design
/// - **Identity, not path.** A file is its device + inode while it is open, plus its
///   ``FileFingerprint`` (first line) which survives renames, copies and compression. The
///   checkpoint also keeps a hash of the 256 bytes before the saved offset, so a file
///   truncated and rewritten while the agent was down is not resumed at a stale offset.
/// - **Discovery by polling.** Globs are re-expanded and files stat'ed every
///   `tail.pollInterval`. Paths that are rotated siblings of another followed path
///   (`.1`, `.2.gz`, `-20261122`, …) are never followed as live files, so `app.log*` does
///   not read anything twice.
/// - **Rotation.** rename+create: the renamed file is read to its end through the open
///   descriptor, then the new file from 0; the old descriptor is closed only after its
///   last line is flushed (after `partialLineTimeout` without growth) and everything read
///   from it is acknowledged — never after a fixed grace time. copytruncate (the file
///   shrank, or the bytes before our position changed): the rest is read from the copy
///   found by fingerprint, then the original from 0. Deleted while open: read to its end
///   within `deletedFileTimeout` and `maxDeletedBytes`, past which the unread bytes are
///   counted and logged as lost. On start, saved files that moved are found among the
///   siblings by inode or fingerprint (inside .gz too) and resumed at their uncompressed
///   offset, oldest first, before the live file.
/// - **New files.** `start_at` applies to files found on the first scan with no saved
///   position (`end`: after the last complete line). A file that appears later, or at a
///   path that was followed before, is read from 0: it is new content.
/// - **Delivery and positions.** Reads happen on one dedicated thread (blocking `pread`,
///   zlib), in rounds of at most a few MiB; the consumer is awaited for every chunk, so a
///   slow consumer stops reading (backpressure). Positions move only through
///   ``acknowledge(file:offset:)``, in order per file, and are saved at most once a second
///   (plus ``saveCheckpoint()`` at shutdown).
public final class Tailer: Sendable {
    private let config: TailTrackConfig
    private let checkpoint: CheckpointStore
    private let logger: Logger
    private let consumer: @Sendable (LineChunk) async -> Void
    private let core: Mutex<TailerCore>

    public init(
        config: TailTrackConfig, checkpoint: CheckpointStore, logger: Logger,
        consumer: @escaping @Sendable (LineChunk) async -> Void
    ) {
        self.config = config
        self.checkpoint = checkpoint
        self.logger = logger
        self.consumer = consumer
        self.core = Mutex(TailerCore(config: config, checkpoint: checkpoint, logger: logger))
    }

    /// Follows files until the task is cancelled, then stops reading and returns (open
    /// files stay open for the acknowledgements still to come; ``saveCheckpoint()`` then
    /// saves the final positions).
    public func run() async throws {
        let watcher =
            config.tail.useInotify
            ? DirectoryWatcher(patterns: config.sources.flatMap(\.paths), logger: logger) : nil
        defer { watcher?.stop() }
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        while !Task.isCancelled {
            let (chunks, more) = try await pool.runIfActive {
                let result = self.core.withLock { core -> ([LineChunk], Bool) in
                    let step = core.step(now: .now)
                    return (step.chunks, step.more)
                }
                do {
                    try self.checkpoint.saveIfDue()
                } catch {
                    self.logger.error("Cannot save positions", metadata: ["error": "\(error)"])
                }
                return result
            }
            for chunk in chunks {
                await consumer(chunk)
            }
            if chunks.isEmpty && !more {
                do {
                    if let watcher {
                        if await watcher.wait(upTo: config.tail.pollInterval) {
                            core.withLock { $0.requestScan() }
                        }
                        if Task.isCancelled { break }
                    } else {
                        try await Task.sleep(for: config.tail.pollInterval)
                    }
                } catch {
                    break
                }
            }
        }
    }

    /// Records that every line of `file` before `offset` is delivered (accepted or
    /// dead-lettered): its position may now be saved.
    public func acknowledge(file: FileKey, offset: UInt64) async {
        core.withLock { $0.acknowledge(file: file, offset: offset) }
    }

    /// Saves the positions now (at shutdown, after the last acknowledgements).
    public func saveCheckpoint() async throws {
        try checkpoint.save()
    }

    /// The files being followed.
    public func status() async -> [TailedFileStatus] {
        core.withLock { $0.status() }
    }

    /// Whether the first scan is done: every source's files that exist are open.
    public func hasOpenedSources() async -> Bool {
        core.withLock { $0.firstScanDone }
    }

    /// Bytes given up on: deleted files released past their limits, truncated files whose
    /// copy was not found.
    public func lostBytes() async -> UInt64 {
        core.withLock { $0.lostBytes }
    }

    /// What `tailtrack status` shows with no agent running: every saved position, and how far
    /// behind it is the file now at that path.
    public static func offlineStatus(stateDirectory: String, logger: Logger) throws -> [TailedFileStatus] {
        let store = try CheckpointStore(stateDirectory: stateDirectory, logger: logger)
        return store.entries.sorted { ($0.source, $0.path) < ($1.source, $1.path) }.map { entry in
            let status = try? FileStatus.of(path: entry.path)
            let same = status.map { $0.device == entry.device && $0.inode == entry.inode } ?? false
            let size = status?.size ?? 0
            return TailedFileStatus(
                source: entry.source, path: entry.path, identity: entry.identity, committedOffset: entry.offset,
                size: size, bytesBehind: same ? size.subtractingClamped(entry.offset) : nil,
                state: status == nil ? "gone" : (same ? "present" : "moved"))
        }
    }
}
