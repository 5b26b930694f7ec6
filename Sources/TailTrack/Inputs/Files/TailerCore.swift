import Foundation
import Logging

/// The file tailer's state and decisions, synchronous: discovery, rotation handling, reading
/// and acknowledgement. ``Tailer`` runs it on a dedicated thread under a lock.
///
/// This file is the orchestration: the state, the step loop, adding and releasing files and
/// acknowledgements. The rest, by concern:
/// - discovery (`TailerCore+Scan.swift`) and rotation of live files (`TailerCore+Rotation.swift`);
/// - compressed files matched at their own path (`TailerCore+CompressedPaths.swift`);
/// - finishing rotated and deleted files (`TailerCore+Finishing.swift`), and status
///   (`TailerCore+Status.swift`);
/// - what is remembered of files not read (``SiblingLedger``), saved positions matched to the
///   files on disk (``SavedPositions``), and the open-file budget (``OpenFileBudget``).
final class TailerCore {
    // MARK: Configuration

    let config: TailTrackConfig
    let checkpoint: CheckpointStore
    let logger: Logger
    /// Most bytes one step hands over, across files: bounds reading ahead.
    let stepBytes = 4 << 20
    /// Most bytes and lines of one chunk.
    let chunkBytes = 1 << 20
    let chunkLines = 4096
    /// Least time between two scans that inotify events ask for: a busy directory (a write
    /// every millisecond) costs at most this many scans a second.
    static let minimumScanGap = Duration.milliseconds(20)

    // MARK: Followed files

    /// Every followed file: live, rotated or deleted.
    private(set) var files: [FileKey: TailedFile] = [:] {
        didSet { readOrderValid = false }
    }
    /// The live file of each followed path.
    var liveByPath: [SourcePath: FileKey] = [:]
    /// The key the next followed file gets.
    private var nextKey: UInt64 = 1
    /// Whether every file's ``TailedFile/readOrder`` is its place in the read order now:
    /// cleared when a file comes or goes or a file's age changes (a rotation), which is rare,
    /// so a step sorts its due files by one integer instead of comparing paths.
    var readOrderValid = false
    /// Files that may have bytes to read: only these (and the non-live ones) are looked at by
    /// a step, so thousands of quiet files cost nothing between scans.
    private var dueKeys = Set<FileKey>()
    /// Rotated and deleted files: they have timers (partial line, deleted-file limits, release).
    private(set) var nonLiveKeys = Set<FileKey>()
    /// The followed files that are behind, kept by the files themselves.
    let behindKeys = FileKeySet()

    // MARK: Remembered besides the followed files

    /// Known paths, siblings seen and not followed, compressed files read whole.
    let ledger: SiblingLedger
    /// The positions saved by the last run, resolved at the first scan.
    let saved: SavedPositions
    /// Matched paths not followed: over the open-file budget, or failing to open.
    let budget: OpenFileBudget

    // MARK: Scanning

    /// True once the first scan opened every source's files.
    var firstScanDone = false
    /// Set by ``requestScan()``: a watched directory changed.
    var scanRequested = false
    /// When the last scan began.
    var lastScan: ContinuousClock.Instant?
    /// How long the last scan took (wall time): spaces the safety-net scans of many files.
    var lastScanDuration = Duration.zero
    /// When the checkpoint's entries of files no longer followed were last collected.
    private var lastCollection: ContinuousClock.Instant?

    // MARK: Counters and test seams

    /// Bytes given up on (deleted files past their limits, truncated copies not found).
    var lostBytes: UInt64 = 0
    /// Test seam: runs just before a matched path is opened, so a test can rotate the file
    /// between the scan's look and the open, or fail the open (as a permission error would for
    /// an agent not running as root) by throwing.
    var beforeOpeningLivePath: ((String) throws -> Void)?

    /// `keySpace`: the range of ``FileKey``s this input's files get, so that acknowledgements
    /// find their way back to it among the agent's inputs.
    init(
        config: TailTrackConfig, checkpoint: CheckpointStore, logger: Logger,
        keySpace: InputKeySpace = InputKeySpace(index: 0)
    ) {
        self.nextKey = keySpace.firstKey.rawValue + 1
        self.config = config
        self.checkpoint = checkpoint
        self.logger = logger
        self.ledger = SiblingLedger(sources: config.sources)
        self.saved = SavedPositions(config: config, checkpoint: checkpoint)
        self.budget = OpenFileBudget(logger: logger)
    }

    /// Most files followed at once, so that descriptors stay free for positions, sockets and
    /// inotify (``OpenFileLimit``). Past it, matched files wait, as unreadable, for a scan that
    /// finds room. Settable for tests.
    var maxFollowedFiles: Int {
        get { budget.limit }
        set { budget.limit = newValue }
    }

    /// True while rotated or deleted files are followed.
    var hasNonLiveFiles: Bool { !nonLiveKeys.isEmpty }

    // MARK: Stepping

    /// What one step produced, and what the loop needs to know to sleep well.
    struct StepResult {
        /// Chunks to deliver, in order.
        var chunks: [LineChunk]
        /// True when a file has data left to read now.
        var more: Bool
        /// Set when a requested scan waits for ``minimumScanGap``: step again after this long.
        var nextScanIn: Duration?
        /// True while rotated or deleted files are followed: their timers (partial line,
        /// deleted-file limits, release) need regular steps.
        var hasNonLiveFiles: Bool
        /// How long the last full scan took.
        var lastScanDuration: Duration
    }

    /// Makes a step re-scan and stat every file soon (a watched directory changed).
    func requestScan() {
        scanRequested = true
    }

    /// Files inotify saw written to: each followed file at one of those paths is stat'ed now
    /// and read if it grew or shrank, without a full scan (cheap with thousands of files). A
    /// path no followed file has (a new file, or a path spelt differently) asks for a scan.
    func noteWritten(_ paths: Set<String>, now: ContinuousClock.Instant) {
        for path in paths {
            var found = false
            for source in config.sources {
                guard let key = liveByPath[SourcePath(source: source.name, path: path)], let file = files[key] else {
                    continue
                }
                found = true
                if refreshByTailCheck(file, now: now) { continue }
                guard let status = try? file.reader.status() else { continue }
                refreshLive(file, source: source, status: status, now: now)
            }
            // A write to a matched file that cannot be opened changes nothing a scan would see
            // (a change of mode comes as an attribute event, which asks for one): thousands of
            // such files being written must not make scans run back to back.
            if !found, !config.sources.contains(where: { budget.isUnreadable(SourcePath(source: $0.name, path: path)) })
            {
                scanRequested = true
            }
        }
    }

    /// One round: re-scan when due, read from every file that may have data (rotated files
    /// of a family before the live one), flush and
    /// release finished files, apply the deleted-file limits. Reads at most about
    /// `readBudget` bytes (one chunk more at worst); 0 when the queue is full.
    /// `scanInterval` is how often a full scan is due without any event asking for one
    /// (`tail.poll_interval`, or longer while inotify sees everything).
    func step(now: ContinuousClock.Instant, readBudget: Int? = nil, scanInterval: Duration? = nil) -> StepResult {
        var nextScanIn: Duration?
        let sinceScan = lastScan.map { $0.duration(to: now) }
        if sinceScan.map({ $0 >= scanInterval ?? config.tail.pollInterval }) ?? true {
            scan(now: now)
        } else if scanRequested, let sinceScan {
            if sinceScan >= Self.minimumScanGap {
                scan(now: now)
            } else {
                nextScanIn = Self.minimumScanGap - sinceScan
            }
        }
        var chunks: [LineChunk] = []
        var budget = min(readBudget ?? stepBytes, stepBytes)
        var blockedFamilies = Set<SourcePath>()
        // Only files with something to do: thousands of idle live files cost nothing here.
        updateReadOrder()
        let ordered = dueKeys.union(nonLiveKeys).compactMap { files[$0] }.sorted { $0.readOrder < $1.readOrder }
        for file in ordered {
            let family = SourcePath(source: file.source, path: file.family)
            if blockedFamilies.contains(family) { continue }
            if budget > 0 && file.readDue && !file.finished {
                if turnedOutCompressed(file) {
                    followAsCompressed(file, now: now)
                    continue
                }
                let skippedBefore = file.framer.skippedLines
                defer { logSkippedLines(file, since: skippedBefore) }
                do {
                    if let chunk = try file.read(
                        readBytes: config.tail.readBytes, chunkBytes: chunkBytes, chunkLines: chunkLines, now: now)
                    {
                        budget -= chunk.bytes.count
                        chunks.append(chunk)
                    }
                } catch {
                    logger.error(
                        "Cannot read a followed file; it is dropped until it reappears",
                        metadata: ["file.path": "\(file.path)", "error": "\(error)"])
                    release(file)
                    continue
                }
            }
            // Older files of a family are read to their current end before newer ones.
            if !file.isLive && !file.reachedEnd && !file.finished { blockedFamilies.insert(family) }
            if let chunk = finishIfDone(file, now: now) { chunks.append(chunk) }
        }
        enforceDeletedLimits(now: now)
        let collectionDue = lastCollection.map { $0.duration(to: now) >= .seconds(3600) } ?? true
        if collectionDue && firstScanDone {
            // A compressed file read whole keeps its position: forgotten, it would be read
            // again at the next start.
            let active = files.values.filter(\.writesCheckpoint).map(\.checkpointKey) + ledger.readCompressedFiles
            checkpoint.collectGarbage(active: Set(active))
            lastCollection = now
        }
        dueKeys = dueKeys.union(ordered.map(\.key)).filter { key in
            files[key].map { $0.readDue && !$0.finished } ?? false
        }
        let more = !dueKeys.isEmpty
        return StepResult(
            chunks: chunks, more: more, nextScanIn: nextScanIn,
            hasNonLiveFiles: hasNonLiveFiles, lastScanDuration: lastScanDuration)
    }

    /// Numbers every file in read order: by source, family, then oldest first (rotated
    /// files before the live one), then by key. Sorts only after the files changed.
    private func updateReadOrder() {
        guard !readOrderValid else { return }
        let sorted = files.values.sorted {
            ($0.source, $0.family, $0.age, $0.key.rawValue) < ($1.source, $1.family, $1.age, $1.key.rawValue)
        }
        for (order, file) in sorted.enumerated() { file.readOrder = order }
        readOrderValid = true
    }

    /// Logs lines the last read skipped as longer than `tail.max_line_bytes`: bad input is
    /// counted and named, never silently dropped.
    private func logSkippedLines(_ file: TailedFile, since before: Int) {
        let skipped = file.framer.skippedLines - before
        guard skipped > 0 else { return }
        logger.warning(
            "Skipped lines longer than tail.max_line_bytes",
            metadata: [
                "file.path": "\(file.path)", "lines.skipped": "\(skipped)",
                "max_line_bytes": "\(config.tail.maxLineBytes)",
            ])
    }

    /// Records an acknowledgement and updates the checkpoint entry.
    /// Returns true when the loop should look soon: a rotated file may be releasable, or the
    /// checkpoint just became dirty (a save is due within a second).
    @discardableResult
    func acknowledge(file key: FileKey, offset: UInt64) -> Bool {
        guard let file = files[key] else { return false }
        let wasClean = !checkpoint.hasUnsavedChanges
        file.acknowledge(offset)
        if file.writesCheckpoint {
            checkpoint.update(file.checkpointEntry(now: Self.unixNow()))
        }
        return !file.isLive || wasClean
    }

    /// Closes every file (at shutdown, after the final acknowledgements).
    func closeAll() {
        for file in files.values { file.reader.close() }
    }

    // MARK: Adding and releasing files

    /// Marks `file` as maybe having bytes to read: the next step reads it.
    func markDue(_ file: TailedFile) {
        file.readDue = true
        dueKeys.insert(file.key)
    }

    func setRole(_ file: TailedFile, _ role: TailedFile.Role) {
        file.role = role
        if role == .live { nonLiveKeys.remove(file.key) } else { nonLiveKeys.insert(file.key) }
    }

    /// Follows the file `reader` has open from `offset`, and saves its position.
    @discardableResult
    func add(
        source: String, family: String, age: RotatedSiblings.Age, path: String, status: FileStatus,
        fingerprint: FileFingerprint?, reader: any LogFileReader, offset: UInt64, role: TailedFile.Role,
        now: ContinuousClock.Instant
    ) -> TailedFile {
        let key = FileKey(rawValue: nextKey)
        nextKey += 1
        if reader.offset != offset { try? reader.seek(to: offset) }
        let file = TailedFile(
            key: key, source: source, family: family, age: age, path: path, status: status,
            fingerprint: fingerprint, reader: reader,
            framer: LineFramer(maxLineBytes: config.tail.maxLineBytes, startingAt: offset),
            role: role, tailHash: try? reader.tailHash(before: offset), now: now, behindKeys: behindKeys)
        files[key] = file
        dueKeys.insert(key)
        if role != .live { nonLiveKeys.insert(key) }
        checkpoint.update(file.checkpointEntry(now: Self.unixNow()))
        return file
    }

    /// Stops following `file`: closes it, and remembers it among its family's siblings.
    func release(_ file: TailedFile) {
        ledger.remember(file)
        file.reader.close()
        files.removeValue(forKey: file.key)
        behindKeys.keys.remove(file.key)
        dueKeys.remove(file.key)
        nonLiveKeys.remove(file.key)
        let pathKey = SourcePath(source: file.source, path: file.family)
        if liveByPath[pathKey] == file.key { liveByPath.removeValue(forKey: pathKey) }
        if ledger.compressedPaths[pathKey] == .reading(file.key) { compressedFileReleased(file, at: pathKey) }
    }

    /// Opens the file at `path` at uncompressed `offset`: a .gz (by its first bytes)
    /// decompressed.
    func openReader(path: String, offset: UInt64) throws -> any LogFileReader {
        if FileIdentity.isGzip(path: path) {
            let reader = try GzipFileReader(path: path, bufferBytes: config.tail.readBytes)
            try reader.seek(to: offset)
            return reader
        }
        return try PlainFileReader(path: path, offset: offset, bufferBytes: config.tail.readBytes)
    }

    static func unixNow() -> Int64 { Int64(Date().timeIntervalSince1970) }
}

extension UInt64 {
    /// `self - other`, or 0 when `other` is larger.
    func subtractingClamped(_ other: UInt64) -> UInt64 { self > other ? self - other : 0 }
}
