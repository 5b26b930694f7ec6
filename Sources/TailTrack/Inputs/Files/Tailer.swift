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
/// - **Discovery.** Globs are re-expanded and files stat'ed when inotify reports a change in
///   a followed directory (at most every ``TailerCore/minimumScanGap``), and as a safety net
///   every `tail.pollInterval` — or every ``watchedRescanInterval`` while inotify covers
///   every directory and no rotated file is being finished (longer when a scan is slow, so
///   that it costs at most ``safetyNetShare`` of a core). Paths that are rotated siblings of another followed path
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
///   zlib), in rounds of at most a few MiB, into a queue of at most ``queueBytes`` that the
///   consumer drains; a slow consumer stops reading (backpressure) but not scanning, so
///   rotations and deletions during an outage are still followed. Positions move only through
///   ``acknowledge(file:offset:)``, in order per file, into the ``CheckpointStore``; the
///   ``CheckpointService`` saves them (at most once a second, and at shutdown).
public final class Tailer: Sendable {
    private let config: TailTrackConfig
    private let checkpoint: CheckpointStore
    private let logger: Logger
    private let consumer: @Sendable ([LineChunk]) async -> Void
    private let sourcesOpened: @Sendable () -> Void
    private let beforeFirstScan: @Sendable () -> Void
    private let core: Mutex<TailerCore>
    private let wakeup = Wakeup()

    /// A tailer handing its chunks to `consumer` one at a time.
    public convenience init(
        config: TailTrackConfig, checkpoint: CheckpointStore, logger: Logger,
        consumer: @escaping @Sendable (LineChunk) async -> Void
    ) {
        self.init(config: config, checkpoint: checkpoint, logger: logger) { (chunks: [LineChunk]) in
            for chunk in chunks { await consumer(chunk) }
        }
    }

    /// A tailer handing `consumer` the chunks of each step together, in file order: with
    /// many files written a line at a time, one hand-over per step instead of one per file.
    /// `sourcesOpened` runs once, on the reading thread, after the first scan has opened every
    /// source's files and before the first byte is read (the agent gives back its start-up
    /// code pages there, before reading makes the pipeline's own code resident).
    /// `beforeFirstScan` runs once, on the reading thread, just before that scan (the agent
    /// gives back the code of its set-up there, before the scan builds a state per file).
    /// `keySpace` is the range of ``FileKey``s its files get (see ``InputKeySpace``).
    public init(
        config: TailTrackConfig, checkpoint: CheckpointStore, logger: Logger,
        keySpace: InputKeySpace = InputKeySpace(index: 0),
        beforeFirstScan: @escaping @Sendable () -> Void = {},
        sourcesOpened: @escaping @Sendable () -> Void = {},
        consumer: @escaping @Sendable ([LineChunk]) async -> Void
    ) {
        self.config = config
        self.checkpoint = checkpoint
        self.logger = logger
        self.consumer = consumer
        self.sourcesOpened = sourcesOpened
        self.beforeFirstScan = beforeFirstScan
        self.core = Mutex(TailerCore(config: config, checkpoint: checkpoint, logger: logger, keySpace: keySpace))
    }

    /// Follows files until the task is cancelled, then stops reading and returns (open
    /// files stay open for the acknowledgements still to come; ``saveCheckpoint()`` then
    /// saves the final positions).
    ///
    /// Two loops run side by side: the reading loop steps the core on its own thread and puts
    /// the chunks in a queue of at most ``queueBytes``; the delivery loop hands them to the
    /// consumer one at a time. When the consumer is slow (delivery applies backpressure) the
    /// queue fills and the reading loop stops reading — but keeps scanning, so that rotations,
    /// new files and deletions that happen meanwhile are noticed and the deleted-file limits
    /// hold, however long the outage.
    public func run() async throws {
        let wakeup = self.wakeup
        let watcher =
            config.tail.useInotify
            ? DirectoryWatcher(patterns: config.sources.flatMap(\.paths), logger: logger) { change in
                wakeup.signal(scan: change.needsScan, written: change.modified)
            }
            : nil
        defer { watcher?.stop() }
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let (steps, continuation) = AsyncStream.makeStream(of: [LineChunk].self)
        let queued = QueuedBytes()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [consumer] in
                for await chunks in steps {
                    if Task.isCancelled { break }
                    await consumer(chunks)
                    let (before, _) = queued.value.subtract(
                        chunks.reduce(0) { $0 + $1.bytes.count }, ordering: .relaxed)
                    // Only a full queue makes the reading loop wait for room: otherwise it
                    // is stepping or waiting for writes, and a wake-up would cost a step.
                    if before >= Self.queueBytes { wakeup.signal() }
                }
            }
            defer {
                continuation.finish()
                group.cancelAll()
            }
            // A step read lines and left more unread (a backlog larger than the queue): the
            // next step that reads to the end of every file ends the backlog. A step that read
            // nothing (the first, which only scans; a full queue) changes nothing, so a small
            // backlog at start is batched like any other lines.
            var behind = false
            while !Task.isCancelled {
                let room = max(0, Self.queueBytes - queued.value.load(ordering: .relaxed))
                let changes = wakeup.takeChanges()
                let watched = watcher?.coversEverything == true
                let step = try await pool.runIfActive {
                    if self.core.withLock({ !$0.firstScanDone }) { self.beforeFirstScan() }
                    let (step, opened) = self.core.withLock { core in
                        if changes.scan { core.requestScan() }
                        if !changes.written.isEmpty { core.noteWritten(changes.written, now: .now) }
                        let interval = self.scanInterval(
                            watched: watched, hasNonLiveFiles: core.hasNonLiveFiles, lastScan: core.lastScanDuration)
                        // The first step only scans: the files are opened, nothing is read yet.
                        let first = !core.firstScanDone
                        let step = core.step(now: .now, readBudget: first ? 0 : room, scanInterval: interval)
                        return (step, first && core.firstScanDone)
                    }
                    if opened { self.sourcesOpened() }
                    return step
                }
                var chunks = step.chunks
                if !chunks.isEmpty {
                    if behind, !step.more { chunks[chunks.count - 1].endsBacklog = true }
                    behind = step.more
                }
                if !chunks.isEmpty {
                    queued.value.add(chunks.reduce(0) { $0 + $1.bytes.count }, ordering: .relaxed)
                    continuation.yield(chunks)
                }
                let full = queued.value.load(ordering: .relaxed) >= Self.queueBytes
                // Nothing left to read now (what was read is queued): wait for writes, room,
                // an acknowledgement or the next deadline rather than step again for nothing.
                // (Writes to many files are gathered by the watcher: one wake-up covers them.)
                if full || !step.more {
                    await wakeup.wait(upTo: waitTime(step, watcher: watcher))
                }
            }
        }
    }

    /// Most bytes of read lines waiting for the consumer: past it reading pauses (it may be
    /// passed by at most one chunk). Small, so that what the agent holds is bounded by the
    /// delivery queue (`batch.queue_bytes`), not by the backlog. 512 KiB keeps the rules
    /// busy (reading runs ~10 × faster than they do) with a peak heap of 8.2 MB against 9.6 MB
    /// at 1 MiB (heaptrack, 200 MB backlog), and measured no slower.
    static let queueBytes = 1 << 19

    /// How long the loop may sleep when nothing is to be read: until the next scan, the core's
    /// next deadline (a partial line to flush, a deleted file to release), or a wake-up.
    private func waitTime(_ step: TailerCore.StepResult, watcher: DirectoryWatcher?) -> Duration {
        if let next = step.nextScanIn { return next }
        return scanInterval(
            watched: watcher?.coversEverything == true, hasNonLiveFiles: step.hasNonLiveFiles,
            lastScan: step.lastScanDuration)
    }

    /// How often a full scan runs with no event asking for one: `tail.poll_interval`, or
    /// while inotify sees every change (`watched`) and no rotated or deleted file (whose growth
    /// inotify may not report) is being finished, ``watchedRescanInterval`` — stretched so that
    /// this safety net costs at most ``safetyNetShare`` of a core when a scan is slow (10,000
    /// files take ~90 ms), up to ``longestRescanInterval``.
    private func scanInterval(watched: Bool, hasNonLiveFiles: Bool, lastScan: Duration) -> Duration {
        guard watched, !hasNonLiveFiles else { return config.tail.pollInterval }
        let affordable = min(lastScan / Self.safetyNetShare, Self.longestRescanInterval)
        return max(config.tail.pollInterval, Self.watchedRescanInterval, affordable)
    }

    /// The safety-net scan runs at most this often per second it takes: 400 is 0.25 % of a core.
    static let safetyNetShare = 0.0025

    /// The longest gap between safety-net scans, however slow a scan is.
    static let longestRescanInterval = Duration.seconds(60)

    /// With inotify covering every followed directory, the safety-net scan runs this rarely:
    /// the kernel reports every change that matters, and an idle agent costs nothing.
    static let watchedRescanInterval = Duration.seconds(10)

    /// Records that every line of `file` before `offset` is delivered (accepted or
    /// dead-lettered): its position may now be saved.
    public func acknowledge(file: FileKey, offset: UInt64) async {
        // A position to save soon, or a finished rotated file to release: the loop may be in
        // a long idle wait.
        if core.withLock({ $0.acknowledge(file: file, offset: offset) }) { wakeup.signal() }
    }

    /// ``acknowledge(file:offset:)`` for several files at once, under one lock.
    public func acknowledge(_ acknowledgements: [Acknowledgement]) async {
        let lookSoon = core.withLock { core in
            var lookSoon = false
            for acknowledgement in acknowledgements {
                if core.acknowledge(file: acknowledgement.file, offset: acknowledgement.endOffset) { lookSoon = true }
            }
            return lookSoon
        }
        if lookSoon { wakeup.signal() }
    }

    /// Saves the positions now. The agent leaves saving to its ``CheckpointService``; this is
    /// for a tailer run on its own (tests, tools).
    public func saveCheckpoint() async throws {
        try checkpoint.save()
    }

    /// The files being followed, by path.
    public func status() async -> [TailedFileStatus] {
        core.withLock { $0.status() }
    }

    /// Counts, and the files that are behind (the once-a-second snapshot's view).
    public func summary() async -> TailedFilesSummary {
        core.withLock { $0.summary() }
    }

    /// Bytes of lines handed out so far from the files followed now (a synchronous look, for
    /// tests of what happened before the first read).
    func emittedBytes() -> UInt64 {
        core.withLock { $0.emittedBytes }
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
    /// behind it is the file now at that path; then the files `sources` match that have no
    /// saved position: `new`, or `unreadable` when they cannot be opened (the agent would retry).
    public static func offlineStatus(
        stateDirectory: String, sources: [SourceSettings] = [], logger: Logger
    ) throws -> [TailedFileStatus] {
        let store = try CheckpointStore(stateDirectory: stateDirectory, logger: logger)
        let saved = store.entries.sorted { ($0.source, $0.path) < ($1.source, $1.path) }.map { entry in
            let status = try? FileStatus.of(path: entry.path)
            let same = status?.sameInode(as: entry) ?? false
            let size = status?.size ?? 0
            // A .gz's offset is uncompressed: its size does not tell how much is behind.
            let behind = same && !FileIdentity.isGzip(path: entry.path) ? size.subtractingClamped(entry.offset) : nil
            return TailedFileStatus(
                source: entry.source, path: entry.path, identity: entry.identity, committedOffset: entry.offset,
                size: size, bytesBehind: behind,
                state: status == nil ? "gone" : (same ? "present" : "moved"))
        }
        var unsaved: [TailedFileStatus] = []
        for source in sources {
            let matched = PathGlob.expand(source.paths, excluding: source.exclude)
            let bases = Set(matched)
            for path in matched {
                if RotatedSiblings.candidateBases(of: path).contains(where: { $0 != path && bases.contains($0) }) {
                    continue
                }
                guard let status = try? FileStatus.of(path: path),
                    !store.entries.contains(where: {
                        $0.source == source.name && $0.sameInode(as: status)
                    })
                else { continue }
                var readable = false
                var compressed = false
                if let reader = try? PlainFileReader(path: path, bufferBytes: 16) {
                    compressed = (try? reader.beginsWithGzipMagic()) == true
                    reader.close()
                    readable = true
                }
                unsaved.append(
                    TailedFileStatus(
                        source: source.name, path: path,
                        identity: FileIdentity(device: status.device, inode: status.inode, fingerprint: nil),
                        committedOffset: 0, size: status.size, bytesBehind: readable && !compressed ? status.size : nil,
                        state: readable ? "new" : TailedFileStatus.unreadable))
            }
        }
        return saved + unsaved
    }
}

/// Bytes of read lines waiting for the tailer's consumer, shared by its two loops.
private final class QueuedBytes: Sendable {
    let value = Atomic<Int>(0)
}
