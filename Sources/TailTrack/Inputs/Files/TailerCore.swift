import Foundation
import Logging

/// The tailer's state and decisions, synchronous: discovery, rotation handling, reading
/// and acknowledgement. ``Tailer`` runs it on a dedicated thread under a lock.
final class TailerCore {
    struct PathKey: Hashable {
        var source: String
        var path: String
    }

    let config: TailTrackConfig
    let checkpoint: CheckpointStore
    let logger: Logger
    /// At the first scan: the saved positions by family.
    private var savedByFamily: [PathKey: [CheckpointEntry]] = [:]
    /// The directory listings of the scan in progress (`nil` outside a scan).
    private var scanSiblings: SiblingIndex?
    /// `rotated_dir` by source name.
    private let rotatedDirectories: [String: String?]
    private(set) var files: [FileKey: TailedFile] = [:] {
        didSet { readOrderValid = false }
    }
    /// Whether every file's ``TailedFile/readOrder`` is its place in the read order now:
    /// cleared when a file comes or goes or a file's age changes (a rotation), which is rare,
    /// so a step sorts its due files by one integer instead of comparing paths.
    private var readOrderValid = false
    private var nextKey: UInt64 = 1
    private var liveByPath: [PathKey: FileKey] = [:]
    /// Compressed files matched at their own path (an archive named in `paths:`): being read,
    /// or read to their end and released. Such a file is read once, whole, as a rotated .gz
    /// is; remembered so that a scan meeting it again does not read it again.
    private var compressedByPath: [PathKey: CompressedMatch] = [:]
    private var knownPaths = Set<PathKey>()
    /// Matched paths that could not be opened (permissions, a file briefly mode 000, the
    /// open-file limit): what was found there and why.
    private var unreadable: [PathKey: (status: FileStatus, error: String)] = [:]
    /// Most files followed at once, so that descriptors stay free for positions, sockets and
    /// inotify (``OpenFileLimit``). Past it, matched files wait, as unreadable, for a scan that
    /// finds room. Settable for tests.
    var maxFollowedFiles = OpenFileLimit.followedFileBudget(limit: OpenFileLimit.current)
    /// Matched paths left unfollowed by ``maxFollowedFiles``.
    private var overLimit = Set<PathKey>()
    /// The followed files that are behind, kept by the files themselves.
    private let behindKeys = FileKeySet()
    private(set) var firstScanDone = false
    /// Test seam: runs just before a matched path is opened, so a test can rotate the file
    /// between the scan's look and the open, or fail the open (as a permission error would for
    /// an agent not running as root) by throwing.
    var beforeOpeningLivePath: ((String) throws -> Void)?
    /// How many times the siblings of a path were looked for in a fresh directory listing
    /// (for tests: a scan should list a directory once, not once per path in it).
    private(set) var freshSiblingListings = 0
    private var lastScan: ContinuousClock.Instant?
    /// How long the last scan took (wall time): spaces the safety-net scans of many files.
    private(set) var lastScanDuration = Duration.zero
    private var lastCollection: ContinuousClock.Instant?
    /// Bytes given up on (deleted files past their limits, truncated copies not found).
    private(set) var lostBytes: UInt64 = 0

    /// Most bytes one step hands over, across files: bounds reading ahead.
    let stepBytes = 4 << 20
    let chunkBytes = 1 << 20
    let chunkLines = 4096

    init(config: TailTrackConfig, checkpoint: CheckpointStore, logger: Logger) {
        self.rotatedDirectories = Dictionary(
            config.sources.map { ($0.name, $0.rotatedDirectory) }, uniquingKeysWith: { first, _ in first })
        self.config = config
        self.checkpoint = checkpoint
        self.logger = logger
    }

    /// True while rotated or deleted files are followed.
    var hasNonLiveFiles: Bool { !nonLiveKeys.isEmpty }

    /// Files that may have bytes to read: only these (and the non-live ones) are looked at by
    /// a step, so thousands of quiet files cost nothing between scans.
    private var dueKeys = Set<FileKey>()
    /// Rotated and deleted files: they have timers (partial line, deleted-file limits, release).
    private var nonLiveKeys = Set<FileKey>()

    private func markDue(_ file: TailedFile) {
        file.readDue = true
        dueKeys.insert(file.key)
    }

    private func setRole(_ file: TailedFile, _ role: TailedFile.Role) {
        file.role = role
        if role == .live { nonLiveKeys.remove(file.key) } else { nonLiveKeys.insert(file.key) }
    }

    /// Lines skipped as too long, across open files.
    var skippedLines: Int { files.values.reduce(0) { $0 + $1.framer.skippedLines } }

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

    /// Least time between two scans that inotify events ask for: a busy directory (a write
    /// every millisecond) costs at most this many scans a second.
    static let minimumScanGap = Duration.milliseconds(20)

    private var scanRequested = false

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
                guard let key = liveByPath[PathKey(source: source.name, path: path)], let file = files[key] else {
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
            if !found,
                !config.sources.contains(where: { unreadable[PathKey(source: $0.name, path: path)] != nil })
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
        var blockedFamilies = Set<PathKey>()
        // Only files with something to do: thousands of idle live files cost nothing here.
        updateReadOrder()
        let ordered = dueKeys.union(nonLiveKeys).compactMap { files[$0] }.sorted { $0.readOrder < $1.readOrder }
        for file in ordered {
            let family = PathKey(source: file.source, path: file.family)
            if blockedFamilies.contains(family) { continue }
            if budget > 0 && file.readDue && !file.finished && turnedOutCompressed(file) {
                followAsCompressed(file, now: now)
                continue
            }
            if budget > 0 && file.readDue && !file.finished {
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
            // A compressed file read and released keeps its position: forgotten, it would be
            // read again at the next start.
            let read = compressedByPath.compactMap { key, match in match.readFile(source: key.source) }
            checkpoint.collectGarbage(
                active: Set(files.values.filter(\.writesCheckpoint).map(\.checkpointKey)).union(read))
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

    /// Bytes of lines handed out so far from the files followed now.
    var emittedBytes: UInt64 { files.values.reduce(0) { $0 + $1.emittedEnd } }

    /// Every followed file by path, then the unreadable matched paths.
    func status() -> [TailedFileStatus] {
        let ordered = files.values.sorted { ($0.path, $0.key.rawValue) < ($1.path, $1.key.rawValue) }
        let followed = ordered.map { file in
            TailedFileStatus(
                source: file.source, path: file.path, identity: file.identity, committedOffset: file.committed,
                size: file.size,
                bytesBehind: file.reader.isCompressed ? nil : file.size.subtractingClamped(file.committed),
                state: file.statusText)
        }
        let stuck = unreadable.sorted { ($0.key.source, $0.key.path) < ($1.key.source, $1.key.path) }.map {
            key, value in
            TailedFileStatus(
                source: key.source, path: key.path,
                identity: FileIdentity(device: value.status.device, inode: value.status.inode, fingerprint: nil),
                committedOffset: 0, size: value.status.size, bytesBehind: nil, state: TailedFileStatus.unreadable)
        }
        return followed + stuck
    }

    /// Counts, and the statuses of only the files that are behind: what the once-a-second
    /// snapshot needs, without a status (and its strings) for every quiet file.
    func summary() -> TailedFilesSummary {
        var behind: [TailedFileStatus] = []
        for file in behindKeys.keys.compactMap({ files[$0] }) where file.isBehind {
            behind.append(
                TailedFileStatus(
                    source: file.source, path: file.path, identity: file.identity, committedOffset: file.committed,
                    size: file.size, bytesBehind: file.size - file.committed, state: file.statusText))
        }
        return TailedFilesSummary(followed: files.count, unreadable: unreadable.count, behind: behind)
    }

    /// Closes every file (at shutdown, after the final acknowledgements).
    func closeAll() {
        for file in files.values { file.reader.close() }
    }

    // MARK: Finishing rotated and deleted files

    /// Flushes a non-live file that stopped growing, and releases it once everything read
    /// from it is acknowledged. Returns the flushed last line's chunk, if any.
    private func finishIfDone(_ file: TailedFile, now: ContinuousClock.Instant) -> LineChunk? {
        guard !file.isLive else { return nil }
        var chunk: LineChunk?
        if !file.finished && file.reachedEnd && !file.readDue {
            let idle = file.lastActivity.duration(to: now)
            if file.gzipTruncated {
                if idle >= config.tail.deletedFileTimeout {
                    logger.warning(
                        "Compressed file ended before its footer and stopped growing; giving up on it",
                        metadata: ["file.path": "\(file.path)"])
                    file.finished = true
                }
            } else if file.reader.isCompressed || idle >= config.tail.partialLineTimeout {
                chunk = file.flush()
                file.finished = true
            }
        }
        if file.finished && file.fullyAcknowledged {
            if case .deleted = file.role, file.writesCheckpoint {
                checkpoint.remove(file.checkpointKey)
            }
            release(file)
        }
        return chunk
    }

    /// Caps how long and how much deleted-but-open files are held: past the limits the
    /// oldest is released and its unread bytes are counted and logged as lost.
    private func enforceDeletedLimits(now: ContinuousClock.Instant) {
        var deleted: [(file: TailedFile, since: ContinuousClock.Instant)] = nonLiveKeys.compactMap { files[$0] }
            .compactMap {
                if case .deleted(let since) = $0.role { return ($0, since) }
                return nil
            }
        deleted.sort { $0.since < $1.since }
        var held = deleted.reduce(Int64(0)) { $0 + Int64($1.file.size) }
        for (file, since) in deleted {
            let expired = since.duration(to: now) >= config.tail.deletedFileTimeout
            guard expired || held > config.tail.maxDeletedBytes else { continue }
            let heldByFile = Int64(file.size)
            if continueInCompressedCopy(file, now: now) {
                held -= heldByFile
                continue
            }
            // Bytes not handed over (a partial line included) are the ones lost.
            let unread = file.size.subtractingClamped(file.emittedEnd)
            if unread > 0 {
                lostBytes += unread
                logger.warning(
                    "Released a deleted file before reading all of it",
                    metadata: [
                        "file.path": "\(file.path)", "lost.bytes": "\(unread)",
                        "reason": "\(expired ? "deleted_file_timeout" : "max_deleted_bytes")",
                    ])
            }
            held -= Int64(file.size)
            if file.writesCheckpoint { checkpoint.remove(file.checkpointKey) }
            release(file)
        }
    }

    /// A deleted file that logrotate compressed (`app.log.1` → `app.log.1.gz`) is still all
    /// there: instead of giving up its unread bytes, reading continues in the .gz at the same
    /// uncompressed offset, and the deleted file's space is freed.
    private func continueInCompressedCopy(_ file: TailedFile, now: ContinuousClock.Instant) -> Bool {
        guard let fingerprint = file.fingerprint else { return false }
        let followed = files.values.filter { $0.source == file.source && $0.family == file.family }
        for sibling in siblings(of: file.family, source: file.source).reversed() {
            guard FileIdentity.isGzip(path: sibling.path), let status = try? FileStatus.of(path: sibling.path),
                !followed.contains(where: { $0.device == status.device && $0.inode == status.inode }),
                FileIdentity.fingerprint(ofPath: sibling.path) == fingerprint,
                let reader = try? openReader(path: sibling.path, offset: file.framer.offset)
            else { continue }
            let oldKey = file.checkpointKey
            file.reader.close()
            file.reader = reader
            file.path = sibling.path
            file.device = status.device
            file.inode = status.inode
            file.size = status.size
            file.age = sibling.age
            readOrderValid = false
            setRole(file, .rotated)
            markDue(file)
            file.reachedEnd = false
            file.lastActivity = now
            if file.writesCheckpoint {
                checkpoint.remove(oldKey)
                checkpoint.update(file.checkpointEntry(now: Self.unixNow()))
            }
            logger.info(
                "Deleted file was compressed; finishing it from its compressed copy",
                metadata: ["file.path": "\(sibling.path)", "file.offset": "\(file.framer.offset)"])
            return true
        }
        return false
    }

    private func release(_ file: TailedFile) {
        remember(file)
        file.reader.close()
        files.removeValue(forKey: file.key)
        behindKeys.keys.remove(file.key)
        dueKeys.remove(file.key)
        nonLiveKeys.remove(file.key)
        let pathKey = PathKey(source: file.source, path: file.family)
        if liveByPath[pathKey] == file.key { liveByPath.removeValue(forKey: pathKey) }
        if compressedByPath[pathKey] == .reading(file.key) {
            if case .deleted = file.role {
                compressedByPath.removeValue(forKey: pathKey)
            } else {
                compressedByPath[pathKey] = .read(device: file.device, inode: file.inode, size: file.size)
            }
        }
    }

    // MARK: Discovery and rotation

    /// Expands the globs, follows new files, and notices rotation, truncation and deletion.
    func scan(now: ContinuousClock.Instant) {
        lastScan = now
        let started = ContinuousClock.now
        defer { lastScanDuration = started.duration(to: .now) }
        scanRequested = false
        // Directories are listed once per scan, then forgotten: outside a scan every look at the
        // siblings lists afresh.
        scanSiblings = SiblingIndex()
        defer { scanSiblings = nil }
        let initial = !firstScanDone
        savedByFamily = initial ? groupSavedEntries() : [:]
        defer { savedByFamily = [:] }
        for source in config.sources {
            let found = PathGlob.expandWithStatus(source.paths, excluding: source.exclude)
            let matched = found.map(\.path)
            let knownLive = liveByPath.keys.filter { $0.source == source.name }.map(\.path)
            // Families seen before (or saved, at start) stay families while their live path is
            // missing (renamed, not yet recreated): their siblings are never live files.
            let saved = Set(savedByFamily.keys.filter { $0.source == source.name }.map(\.path))
            var bases = Set(matched).union(saved)
            for known in knownPaths where known.source == source.name { bases.insert(known.path) }
            var live = Set<String>()
            for (path, status) in found
            where !RotatedSiblings.candidateBases(of: path).contains(where: { $0 != path && bases.contains($0) }) {
                live.insert(path)
                scanLive(source: source, path: path, status: status, initial: initial, now: now)
            }
            // Unreadable paths that are no longer matched (deleted, renamed away) are no longer
            // reported.
            for key in unreadable.keys where key.source == source.name && !live.contains(key.path) {
                unreadable.removeValue(forKey: key)
                overLimit.remove(key)
            }
            // Compressed files read whole and no longer matched are forgotten.
            for (key, match) in compressedByPath where key.source == source.name && !live.contains(key.path) {
                if case .read = match { compressedByPath.removeValue(forKey: key) }
            }
            for family in saved.sorted() where !live.contains(family) {
                // Renamed while the agent was down and not recreated yet: its saved files are
                // among the siblings.
                resumeFamily(source: source, path: family, status: nil, now: now)
            }
            for path in knownLive where !live.contains(path) {
                // The followed path is gone (renamed or deleted, not yet recreated).
                if let key = liveByPath[PathKey(source: source.name, path: path)], let file = files[key] {
                    detach(file, now: now)
                    adoptUnseenSiblings(source: source.name, family: path, live: nil, now: now)
                }
            }
            forgetGoneFamilies(source: source.name, matched: live)
        }
        for family in recheckFamilies {
            recheckFamilies.remove(family)
            let live = liveByPath[family].flatMap { files[$0] }.flatMap { try? $0.reader.status() }
            adoptUnseenSiblings(source: family.source, family: family.path, live: live, now: now)
        }
        for file in nonLiveKeys.compactMap({ files[$0] }) {
            guard let status = try? file.reader.status() else { continue }
            if status.linkCount == 0, file.role == .rotated { setRole(file, .deleted(since: now)) }
            if status.size != file.size {
                file.size = status.size
                file.lastActivity = now
            }
            if !file.reader.isCompressed ? status.size > file.reader.offset : file.gzipTruncated {
                markDue(file)
            }
        }
        if limitWarned && overLimit.isEmpty {
            limitWarned = false
            logger.info("Every matched file is followed again", metadata: ["files.followed": "\(files.count)"])
        }
        firstScanDone = true
    }

    /// Forgets the paths seen before whose whole family is gone: not matched now, nothing of
    /// theirs followed (the last rotated or deleted file released) and no rotated sibling on
    /// disk. Such a path that comes back is a new file with nothing before it, as if never
    /// seen. Without this, a directory where files come and go (a log per job, per day)
    /// grew the agent's memory with every name it had ever matched.
    private func forgetGoneFamilies(source: String, matched live: Set<String>) {
        var gone: [PathKey] = []
        var followedFamilies: Set<String>?
        for key in knownPaths where key.source == source && !live.contains(key.path) && liveByPath[key] == nil {
            let families =
                followedFamilies ?? Set(files.values.lazy.filter { $0.source == source }.map(\.family))
            followedFamilies = families
            guard !families.contains(key.path), !recheckFamilies.contains(key),
                siblings(of: key.path, source: source).isEmpty
            else { continue }
            gone.append(key)
        }
        for key in gone {
            knownPaths.remove(key)
            seen.removeValue(forKey: key)
        }
    }

    /// Paths the tailer remembers (followed, or seen before and not forgotten), and families
    /// with remembered siblings: for tests, which check that they do not grow without bound.
    var rememberedPathCount: (known: Int, seenFamilies: Int) { (knownPaths.count, seen.count) }

    /// The rotated siblings of a followed path, oldest first, including those in the source's
    /// `rotated_dir`.
    /// Within a scan, directories are listed once, except that `fresh` lists them again (after
    /// a rotation was seen, so that files rotated in meanwhile are not missed).
    private func siblings(
        of family: String, source: String, fresh: Bool = false
    ) -> [(path: String, age: RotatedSiblings.Age)] {
        let directory = rotatedDirectories[source] ?? nil
        if fresh || scanSiblings == nil { freshSiblingListings += 1 }
        guard var index = scanSiblings else { return RotatedSiblings.list(of: family, rotatedDirectory: directory) }
        // Take the index out while using it, so it is not copied.
        scanSiblings = nil
        defer { scanSiblings = index }
        return index.list(of: family, rotatedDirectory: directory, fresh: fresh)
    }

    /// The directory of `family`'s rotated siblings in `rotated_dir`, if the source has one.
    private func rotatedDirectory(of family: String, source: String) -> String? {
        guard let configured = rotatedDirectories[source] ?? nil, !configured.isEmpty else { return nil }
        if configured.hasPrefix("/") { return (configured as NSString).standardizingPath }
        let directory = (family as NSString).deletingLastPathComponent
        return (((directory.isEmpty ? "." : directory) + "/" + configured) as NSString).standardizingPath
    }

    /// The followed path a saved position belongs to (`app.log` for an entry saved while the
    /// file was `app.log.1`, or `old/app.log.1` with `rotated_dir: old`), for the source's
    /// globs; `nil` when no glob covers it.
    private func family(ofSaved entry: CheckpointEntry, source: SourceSettings) -> String? {
        func followed(_ path: String) -> Bool {
            source.paths.contains { fnmatch($0, path, FNM_PATHNAME) == 0 }
                && !source.exclude.contains { fnmatch($0, path, 0) == 0 }
        }
        if let base = RotatedSiblings.base(of: entry.path) {
            if followed(base) { return base }
            // In rotated_dir: the family is the same name in a followed directory.
            let name = (base as NSString).lastPathComponent
            let directories = source.paths.map(DirectoryWatcher.directory(ofGlob:))
            if let family = directories.map({ $0 + "/" + name }).first(where: {
                followed($0)
                    && rotatedDirectory(of: $0, source: source.name).map { directory in
                        (base as NSString).deletingLastPathComponent == directory
                    } ?? false
            }) {
                return family
            }
        }
        return followed(entry.path) ? entry.path : nil
    }

    /// The saved positions by the family they belong to: built once, at the first scan.
    private func groupSavedEntries() -> [PathKey: [CheckpointEntry]] {
        let sources = Dictionary(config.sources.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var grouped: [PathKey: [CheckpointEntry]] = [:]
        for entry in checkpoint.entries {
            guard let source = sources[entry.source], let family = family(ofSaved: entry, source: source) else {
                continue
            }
            grouped[PathKey(source: entry.source, path: family), default: []].append(entry)
        }
        return grouped
    }

    /// One matched path, whose `status` the scan's glob took: followed already (notes growth,
    /// truncation, or another file at the path), resumed from saved positions (first scan), or
    /// new.
    private func scanLive(
        source: SourceSettings, path: String, status: FileStatus, initial: Bool, now: ContinuousClock.Instant
    ) {
        let pathKey = PathKey(source: source.name, path: path)
        if let match = compressedByPath[pathKey] {
            switch match {
            case .reading(let key):
                // Read with the rotated files, which the end of the scan looks at.
                if let file = files[key], file.device == status.device && file.inode == status.inode { return }
            case .read(let device, let inode, let size):
                if device == status.device && inode == status.inode && size == status.size { return }
            }
            // Another file at the path, or the same one grown (another member appended):
            // looked at afresh, from its saved position if it has one.
            compressedByPath.removeValue(forKey: pathKey)
        }
        if let key = liveByPath[pathKey], let file = files[key] {
            if file.device == status.device && file.inode == status.inode {
                refreshLive(file, source: source, status: status, now: now)
                return
            }
            // Another file now has the path: the one we read was rotated away.
            detach(file, now: now)
            adoptUnseenSiblings(source: source.name, family: path, live: status, now: now)
            startLive(source: source, path: path, status: status, offset: 0, now: now)
            return
        }
        if initial {
            resumeFamily(source: source, path: path, status: status, now: now)
            return
        }
        // No room to follow it: its rotated siblings are looked at once it can be followed
        // (looking at them now, for each of thousands of such paths, made every scan list
        // the directory once per path).
        guard !refuseOverLimit(pathKey, status: status) else { return }
        if let unopened = unreadable[pathKey], unopened.status.isSameFile(as: status) {
            // Still the file that could not be opened at the last scan (permissions): nothing
            // was rotated in between, its siblings were looked at then. Only the open is tried
            // again: looking at them at every scan listed the directory once per such path.
        } else if knownPaths.contains(pathKey) {
            adoptUnseenSiblings(source: source.name, family: path, live: status, now: now)
        } else {
            // A path never followed: its siblings, if any, are older content, not rotations
            // the agent missed.
            rememberSiblings(source: source.name, family: path)
        }
        if let entry = checkpoint.entry(
            for: CheckpointKey(source: source.name, device: status.device, inode: status.inode)),
            let offset = verifiedOffset(entry, path: path)
        {
            startLive(source: source, path: path, status: status, offset: offset, now: now)
        } else {
            // Appeared while running (or reappeared after a rotation): all of it is new.
            startLive(source: source, path: path, status: status, offset: 0, now: now)
        }
    }

    /// The live file at its path again (same inode): notes growth, and truncation in place
    /// (copytruncate).
    private func refreshLive(
        _ file: TailedFile, source: SourceSettings, status: FileStatus, now: ContinuousClock.Instant
    ) {
        let changed = status.size != file.size
        if changed { file.lastActivity = now }
        file.size = status.size
        if isTruncated(file, status: status, sizeChanged: changed) {
            handleCopytruncate(file, source: source, path: file.family, status: status, now: now)
        } else if status.size > file.reader.offset {
            markDue(file)
        }
    }

    /// ``refreshLive(_:source:status:now:)`` for a written file without its `fstat`: one
    /// `pread` from just before what was handed out finds the bytes there unchanged and the
    /// file's end within a few KiB (the read that follows takes the new bytes from it).
    /// Returns false, having changed nothing, when that pread cannot tell: the file shrank or
    /// was rewritten (the `fstat` path then handles the truncation), or grew by more.
    private func refreshByTailCheck(_ file: TailedFile, now: ContinuousClock.Instant) -> Bool {
        guard file.emittedEnd > 0, let plain = file.reader as? PlainFileReader,
            let expected = file.tailHashAtEmittedEnd,
            (try? plain.tailHash(before: file.emittedEnd, readAhead: Self.tailCheckReadAhead)) == expected,
            let size = plain.sizeSeenByTailCheck, size >= plain.offset
        else { return false }
        if size != file.size { file.lastActivity = now }
        file.size = size
        if size > plain.offset { markDue(file) }
        return true
    }

    /// How far past the read position the tail check of a written file reads: a few lines.
    static let tailCheckReadAhead = 4096

    /// True when the live file shrank below what was read, or the bytes just before the
    /// read position changed (truncated and rewritten past the old size between two looks).
    private func isTruncated(_ file: TailedFile, status: FileStatus, sizeChanged: Bool) -> Bool {
        if status.size < file.reader.offset { return true }
        guard sizeChanged, file.emittedEnd > 0, let plain = file.reader as? PlainFileReader,
            let expected = file.tailHashAtEmittedEnd
        else { return false }
        // It grew: the read that follows takes its new bytes from this same pread. Asking for
        // more than it grew by makes the pread short, which tells the read it reached the end.
        let grown = Int(clamping: status.size.subtractingClamped(plain.offset))
        let current = try? plain.tailHash(
            before: file.emittedEnd, readAhead: min(grown + 4096, config.tail.readBytes))
        return current != expected
    }

    /// copytruncate: the lines not yet read are in the copy (`app.log.1`, found by
    /// fingerprint); the follower continues there, and the truncated original restarts at 0.
    private func handleCopytruncate(
        _ file: TailedFile, source: SourceSettings, path: String, status: FileStatus, now: ContinuousClock.Instant
    ) {
        let oldKey = file.checkpointKey
        liveByPath.removeValue(forKey: PathKey(source: source.name, path: path))
        setRole(file, .rotated)
        var continued = false
        if let fingerprint = file.fingerprint {
            for sibling in siblings(of: path, source: source.name, fresh: true).reversed() {
                guard let siblingStatus = try? FileStatus.of(path: sibling.path),
                    siblingStatus.inode != status.inode || siblingStatus.device != status.device,
                    FileIdentity.fingerprint(ofPath: sibling.path) == fingerprint,
                    let reader = try? openReader(path: sibling.path, offset: file.framer.offset)
                else { continue }
                file.reader.close()
                file.reader = reader
                file.path = sibling.path
                file.device = siblingStatus.device
                file.inode = siblingStatus.inode
                file.size = siblingStatus.size
                file.age = sibling.age
                readOrderValid = false
                markDue(file)
                file.reachedEnd = false
                file.lastActivity = now
                checkpoint.remove(oldKey)
                checkpoint.update(file.checkpointEntry(now: Self.unixNow()))
                continued = true
                logger.info(
                    "File was truncated in place; finishing its copy",
                    metadata: ["file.path": "\(path)", "file.copy": "\(sibling.path)"])
                break
            }
        }
        if !continued {
            let unread = file.size.subtractingClamped(file.reader.offset)
            logger.warning(
                "File was truncated in place and no copy of it was found; unread lines are lost",
                metadata: ["file.path": "\(path)"])
            lostBytes += unread
            file.writesCheckpoint = false
            file.finished = true
            checkpoint.remove(oldKey)
        }
        startLive(source: source, path: path, status: status, offset: 0, now: now)
    }

    /// The live file left its path: renamed (keep reading it to its end) or deleted.
    private func detach(_ file: TailedFile, now: ContinuousClock.Instant) {
        liveByPath.removeValue(forKey: PathKey(source: file.source, path: file.family))
        let status = try? file.reader.status()
        if let status, status.linkCount == 0 {
            setRole(file, .deleted(since: now))
        } else {
            setRole(file, .rotated)
            if let sibling = siblings(of: file.family, source: file.source, fresh: true).first(where: { sibling in
                guard let siblingStatus = try? FileStatus.of(path: sibling.path) else { return false }
                return siblingStatus.device == file.device && siblingStatus.inode == file.inode
            }) {
                file.path = sibling.path
                file.age = sibling.age
                readOrderValid = false
            }
        }
        if let status { file.size = status.size }
        markDue(file)
        file.lastActivity = now
    }

    /// First scan of a path: resume its own and its rotated siblings' saved positions (they
    /// may have been renamed or compressed while the agent was down), or apply `start_at`.
    /// `status` is `nil` when nothing is at the path (renamed while the agent was down, not
    /// recreated yet): the saved files are resumed among the siblings, and the file that
    /// appears at the path later is new.
    private func resumeFamily(source: SourceSettings, path: String, status: FileStatus?, now: ContinuousClock.Instant) {
        let entries = savedByFamily[PathKey(source: source.name, path: path)] ?? []
        let familySiblings = siblings(of: path, source: source.name)
        var claimed = Set<String>()
        var liveOffset: UInt64?
        var rotated: [(path: String, age: RotatedSiblings.Age, entry: CheckpointEntry)] = []
        for entry in entries.sorted(by: { $0.updated < $1.updated }) {
            if let status, entry.device == status.device && entry.inode == status.inode {
                if let offset = verifiedOffset(entry, path: path) {
                    liveOffset = offset
                    continue
                }
                // Truncated while we were down (copytruncate), or the inode was reused by a
                // new file: either way the saved lines, if anywhere, are in a sibling.
            }
            if let found = locate(entry, among: familySiblings, excluding: claimed, live: status) {
                claimed.insert(found.path)
                rotated.append((found.path, found.age, entry))
            } else {
                checkpoint.remove(entry.key)
            }
        }
        for item in rotated.sorted(by: { $0.age < $1.age }) {
            guard let reader = try? openReader(path: item.path, offset: item.entry.offset),
                let fileStatus = try? reader.status()
            else { continue }
            if item.entry.key != CheckpointKey(source: source.name, device: fileStatus.device, inode: fileStatus.inode)
            {
                checkpoint.remove(item.entry.key)
            }
            add(
                source: source.name, family: path, age: item.age, path: item.path, status: fileStatus,
                fingerprint: item.entry.fingerprint, reader: reader, offset: item.entry.offset, role: .rotated, now: now
            )
        }
        knownPaths.insert(PathKey(source: source.name, path: path))
        // Siblings that no saved entry describes and that are newer than the newest saved
        // file, or were written after the last save, were rotated in while the agent was down
        // (or before it saw them): read them whole, before the live file.
        if !entries.isEmpty {
            let newest = liveOffset == nil ? rotated.map(\.age).max() : .live
            let lastSave = entries.map(\.updated).max() ?? 0
            adoptSiblings(source: source.name, family: path, excluding: claimed, live: status, now: now) {
                age, status in
                newest.map { age > $0 } ?? true || status.modified / 1_000_000_000 >= lastSave - 1
            }
        }
        if let status {
            if let liveOffset {
                startLive(source: source, path: path, status: status, offset: liveOffset, now: now)
            } else if !entries.isEmpty {
                startLive(source: source, path: path, status: status, offset: 0, now: now)
            } else if source.startAt == .beginning {
                if source.backfillRotated {
                    for sibling in familySiblings {
                        guard let reader = try? openReader(path: sibling.path, offset: 0),
                            let fileStatus = try? reader.status()
                        else { continue }
                        add(
                            source: source.name, family: path, age: sibling.age, path: sibling.path,
                            status: fileStatus, fingerprint: FileIdentity.fingerprint(ofPath: sibling.path),
                            reader: reader, offset: 0, role: .rotated, now: now)
                    }
                }
                startLive(source: source, path: path, status: status, offset: 0, now: now)
            } else {
                startLive(source: source, path: path, status: status, offset: nil, now: now)
            }
        }
        // Every other sibling is older content the agent leaves alone (`start_at`, or read
        // before): remembered, so that finding it later is not mistaken for a new rotation.
        rememberSiblings(source: source.name, family: path)
    }

    /// A rotated sibling once followed or deliberately left unread, remembered while it exists
    /// so that meeting it again among the siblings is not taken for a new rotation.
    struct SeenFile: Hashable {
        var device: UInt64
        var inode: UInt64
        var fingerprint: FileFingerprint?
    }

    /// One look at a sibling: where it is and what it begins with.
    private struct SiblingLook {
        var path: String
        var age: RotatedSiblings.Age
        var status: FileStatus
        var fingerprint: FileFingerprint?
        var compressed: Bool

        /// True when `seen` describes this file: the same inode with the same first line, or
        /// for a .gz, the same first line (a compressed copy has a new inode).
        func matches(_ seen: SeenFile) -> Bool {
            if seen.device == status.device && seen.inode == status.inode {
                return seen.fingerprint == nil || fingerprint == nil || seen.fingerprint == fingerprint
            }
            return compressed && fingerprint != nil && seen.fingerprint == fingerprint
        }
    }

    /// Per family: the siblings seen and not followed (read and released, or left unread).
    private var seen: [PathKey: Set<SeenFile>] = [:]
    /// Families whose siblings must be looked at again at the next scan (a .gz whose first line
    /// could not be read yet, while it is being written).
    private var recheckFamilies = Set<PathKey>()

    private func remember(_ file: TailedFile) {
        seen[PathKey(source: file.source, path: file.family), default: []].insert(
            SeenFile(device: file.device, inode: file.inode, fingerprint: file.fingerprint))
    }

    /// The siblings of `family` not followed by any file, looked at now.
    private func unfollowedSiblings(
        source: String, family: String, live: FileStatus?, fresh: Bool = false
    ) -> [SiblingLook] {
        let listed = siblings(of: family, source: source, fresh: fresh)
        guard !listed.isEmpty else { return [] }
        let followed = files.values.filter { $0.source == source && $0.family == family }
        return listed.compactMap { sibling in
            guard let status = try? FileStatus.of(path: sibling.path),
                live.map({ status.device != $0.device || status.inode != $0.inode }) ?? true,
                !followed.contains(where: { $0.device == status.device && $0.inode == status.inode })
            else { return nil }
            return SiblingLook(
                path: sibling.path, age: sibling.age, status: status,
                fingerprint: FileIdentity.fingerprint(ofPath: sibling.path),
                compressed: FileIdentity.isGzip(path: sibling.path))
        }
    }

    /// Remembers every sibling of `family` not followed now.
    private func rememberSiblings(source: String, family: String) {
        let key = PathKey(source: source, path: family)
        let live = liveByPath[key].flatMap { files[$0] }.flatMap { try? $0.reader.status() }
        for look in unfollowedSiblings(source: source, family: family, live: live) {
            seen[key, default: []].insert(
                SeenFile(device: look.status.device, inode: look.status.inode, fingerprint: look.fingerprint))
        }
    }

    /// Rotations the agent did not see happen (several between two looks, a rotation while
    /// reading was paused, the live path briefly unreadable): every sibling that is neither
    /// followed nor seen before is a file that lived at the path in between. Reads them from
    /// the start, oldest first. A .gz with the first line of a followed or seen file is its
    /// compressed copy, not a new file.
    private func adoptUnseenSiblings(source: String, family: String, live: FileStatus?, now: ContinuousClock.Instant) {
        let key = PathKey(source: source, path: family)
        let followed = files.values.filter { $0.source == source && $0.family == family }
        let known = seen[key] ?? []
        let looks = unfollowedSiblings(source: source, family: family, live: live, fresh: true)
        var stillPresent = Set<SeenFile>()
        for look in looks {
            let matching = known.filter { look.matches($0) }
            if !matching.isEmpty {
                stillPresent.formUnion(matching)
                continue
            }
            if look.compressed {
                guard let fingerprint = look.fingerprint else {
                    // Being written (or empty): decide when its first line can be read.
                    recheckFamilies.insert(key)
                    continue
                }
                if followed.contains(where: { $0.fingerprint == fingerprint }) { continue }
            }
            followFromStart(look, source: source, family: family, now: now)
        }
        seen[key] = stillPresent.isEmpty ? nil : stillPresent
    }

    /// Follows a rotated sibling never read, from its first byte.
    private func followFromStart(_ look: SiblingLook, source: String, family: String, now: ContinuousClock.Instant) {
        guard let reader = try? openReader(path: look.path, offset: 0), let openStatus = try? reader.status() else {
            // Renamed again since the look (`.1` to `.2`, or compressed): look for it once more
            // at the end of the scan, under its new name.
            if (try? FileStatus.of(path: look.path)).map({ !$0.isSameFile(as: look.status) }) ?? true {
                recheckFamilies.insert(PathKey(source: source, path: family))
            }
            return
        }
        guard openStatus.isSameFile(as: look.status) else {
            // Another file took the name since the look: both are looked at again.
            reader.close()
            recheckFamilies.insert(PathKey(source: source, path: family))
            return
        }
        logger.info(
            "Found a rotated file never read; reading it from the start", metadata: ["file.path": "\(look.path)"])
        add(
            source: source, family: family, age: look.age, path: look.path, status: openStatus,
            fingerprint: look.fingerprint, reader: reader, offset: 0, role: .rotated, now: now)
    }

    /// Follows from 0 the rotated siblings of `family` that `isNew` accepts and that are not
    /// followed yet: at start, files rotated in while the agent was down. A .gz with the
    /// fingerprint of a followed file is its compressed copy, not a new file.
    private func adoptSiblings(
        source: String, family: String, excluding: Set<String>, live: FileStatus?, now: ContinuousClock.Instant,
        where isNew: (RotatedSiblings.Age, FileStatus) -> Bool
    ) {
        let followed = files.values.filter { $0.source == source && $0.family == family }
        for look in unfollowedSiblings(source: source, family: family, live: live)
        where !excluding.contains(look.path) && isNew(look.age, look.status) {
            if look.compressed, let fingerprint = look.fingerprint,
                followed.contains(where: { $0.fingerprint == fingerprint })
            {
                continue
            }
            followFromStart(look, source: source, family: family, now: now)
        }
    }

    /// Finds where an entry's file went: the sibling with its inode, else one with its
    /// fingerprint (a copy, or compressed into a .gz).
    private func locate(
        _ entry: CheckpointEntry, among siblings: [(path: String, age: RotatedSiblings.Age)],
        excluding claimed: Set<String>, live: FileStatus?
    ) -> (path: String, age: RotatedSiblings.Age)? {
        guard let fingerprint = entry.fingerprint else { return nil }
        let candidates = siblings.filter { !claimed.contains($0.path) }
        for sibling in candidates {
            guard let status = try? FileStatus.of(path: sibling.path),
                status.device == entry.device, status.inode == entry.inode,
                verifiedOffset(entry, path: sibling.path) != nil
            else { continue }
            return sibling
        }
        for sibling in candidates {
            guard let status = try? FileStatus.of(path: sibling.path),
                live.map({ status.device != $0.device || status.inode != $0.inode }) ?? true,
                FileIdentity.fingerprint(ofPath: sibling.path) == fingerprint
            else { continue }
            if FileIdentity.isGzip(path: sibling.path) {
                guard verifiedCompressedOffset(entry, path: sibling.path) else { continue }
            } else {
                var moved = entry
                moved.device = status.device
                moved.inode = status.inode
                guard verifiedOffset(moved, path: sibling.path) != nil else { continue }
            }
            return sibling
        }
        return nil
    }

    /// The entry's offset when the file at `path` is still the file it describes: same
    /// fingerprint, at least that long, same bytes just before the offset.
    /// A .gz (by its first bytes) is checked in its uncompressed bytes.
    private func verifiedOffset(_ entry: CheckpointEntry, path: String) -> UInt64? {
        guard let reader = try? PlainFileReader(path: path, bufferBytes: 4096) else { return nil }
        defer { reader.close() }
        if (try? reader.beginsWithGzipMagic()) == true {
            guard let fingerprint = entry.fingerprint else { return entry.offset == 0 ? 0 : nil }
            guard FileIdentity.fingerprint(ofPath: path) == fingerprint, verifiedCompressedOffset(entry, path: path)
            else { return nil }
            return entry.offset
        }
        guard let status = try? reader.status(), status.size >= entry.offset else { return nil }
        guard let fingerprint = entry.fingerprint else { return entry.offset == 0 ? 0 : nil }
        guard (try? FileIdentity.fingerprint(of: reader)) == fingerprint else { return nil }
        if let expected = entry.tailHash {
            guard (try? FileIdentity.tailHash(of: reader, before: entry.offset)) == expected else { return nil }
        }
        return entry.offset
    }

    /// True when the .gz at `path` holds the entry's file: at least `offset` bytes long once
    /// decompressed, with the same bytes just before the offset (its first line was already
    /// matched). A different file that merely begins with the same line (a constant banner)
    /// fails here and is read as a file of its own.
    private func verifiedCompressedOffset(_ entry: CheckpointEntry, path: String) -> Bool {
        guard entry.offset > 0 else { return true }
        guard let reader = try? GzipFileReader(path: path, bufferBytes: 65_536) else { return false }
        defer { reader.close() }
        guard let hash = try? reader.seekHashingTail(to: entry.offset) else { return false }
        return entry.tailHash.map { $0 == hash } ?? true
    }

    /// Follows the file now at a followed path, from `offset` (`nil`: from the last complete
    /// line, for `start_at: end`).
    private func startLive(
        source: SourceSettings, path: String, status: FileStatus, offset: UInt64?, now: ContinuousClock.Instant
    ) {
        let pathKey = PathKey(source: source.name, path: path)
        guard !refuseOverLimit(pathKey, status: status) else { return }
        knownPaths.insert(pathKey)
        let reader: PlainFileReader
        let openStatus: FileStatus
        do {
            try beforeOpeningLivePath?(path)
            reader = try PlainFileReader(path: path, bufferBytes: config.tail.readBytes)
            openStatus = try reader.status()
        } catch {
            // Renamed away between the scan's look and this open: the file the scan saw here
            // (and so did not count among the unread siblings) must be looked for again.
            if (try? FileStatus.of(path: path)).map({ !$0.isSameFile(as: status) }) ?? true {
                recheckFamilies.insert(pathKey)
            }
            // Logged once; shown by `status` and the tailtrack_unreadable_files metric until it
            // opens (each scan retries).
            if unreadable.updateValue((status, "\(error)"), forKey: pathKey) == nil {
                logger.warning(
                    "Cannot open a matched file; retrying at every scan",
                    metadata: ["file.path": "\(path)", "error": "\(error)"])
            }
            return
        }
        if unreadable.removeValue(forKey: pathKey) != nil, overLimit.remove(pathKey) == nil {
            logger.info("A matched file that could not be opened is now followed", metadata: ["file.path": "\(path)"])
        }
        // Another file than the one the scan saw (rotated in between): the one it saw is now a
        // sibling never read, and the end of the scan adopts it.
        if !openStatus.isSameFile(as: status) { recheckFamilies.insert(pathKey) }
        if (try? reader.beginsWithGzipMagic()) == true {
            reader.close()
            startCompressed(source: source, path: path, status: openStatus, offset: offset, now: now)
            return
        }
        let start = offset ?? (try? lastLineBoundary(reader, size: openStatus.size)) ?? 0
        let file = add(
            source: source.name, family: path, age: .live, path: path, status: openStatus,
            fingerprint: try? FileIdentity.fingerprint(of: reader), reader: reader, offset: start, role: .live, now: now
        )
        liveByPath[pathKey] = file.key
    }

    /// A matched path whose file is compressed: being read, or read to its end and released.
    enum CompressedMatch: Equatable {
        case reading(FileKey)
        /// Read and released: the file, with its compressed size then (a member appended to it
        /// later makes it grow, and it is read on from its saved position).
        case read(device: UInt64, inode: UInt64, size: UInt64)

        /// The position to keep of a file read and released.
        func readFile(source: String) -> CheckpointKey? {
            guard case .read(let device, let inode, _) = self else { return nil }
            return CheckpointKey(source: source, device: device, inode: inode)
        }
    }

    /// Follows a compressed file matched at its own path (an archive named in `paths:`, judged
    /// by its first bytes, whatever its name) from uncompressed `offset`, its saved position or
    /// 0, as a rotated .gz is followed: read to its end, its last line flushed at once, and
    /// released once acknowledged, remembered as read. `offset` `nil` (`start_at: end` with
    /// nothing saved): nothing in it is new; it is only remembered.
    private func startCompressed(
        source: SourceSettings, path: String, status: FileStatus, offset: UInt64?, now: ContinuousClock.Instant
    ) {
        let pathKey = PathKey(source: source.name, path: path)
        guard let offset else {
            compressedByPath[pathKey] = .read(device: status.device, inode: status.inode, size: status.size)
            return
        }
        let reader: GzipFileReader
        let openStatus: FileStatus
        do {
            reader = try GzipFileReader(path: path, bufferBytes: config.tail.readBytes)
            try reader.seek(to: offset)
            openStatus = try reader.status()
        } catch {
            if unreadable.updateValue((status, "\(error)"), forKey: pathKey) == nil {
                logger.warning(
                    "Cannot open a matched file; retrying at every scan",
                    metadata: ["file.path": "\(path)", "error": "\(error)"])
            }
            return
        }
        let file = add(
            source: source.name, family: path, age: .live, path: path, status: openStatus,
            fingerprint: FileIdentity.fingerprint(ofPath: path), reader: reader, offset: offset, role: .rotated,
            now: now)
        compressedByPath[pathKey] = .reading(file.key)
    }

    /// True for a followed file never read from that turns out to be gzip: it was empty when
    /// first seen (being compressed into its place).
    private func turnedOutCompressed(_ file: TailedFile) -> Bool {
        file.isLive && file.emittedEnd == 0 && file.reader.offset == 0 && !file.reader.isCompressed
            && (try? file.reader.status().size).map { $0 >= 2 } == true && FileIdentity.isGzip(path: file.path)
    }

    /// Follows `file` again as the compressed file it turned out to be, from its start.
    private func followAsCompressed(_ file: TailedFile, now: ContinuousClock.Instant) {
        guard let source = config.sources.first(where: { $0.name == file.source }),
            let status = try? file.reader.status()
        else { return }
        release(file)
        startCompressed(source: source, path: file.family, status: status, offset: 0, now: now)
    }

    private var limitWarned = false
    /// Why a path past ``maxFollowedFiles`` is not followed, as ``status()`` keeps it.
    private var overLimitReason: String?

    /// True, having noted the path as unreadable, when ``maxFollowedFiles`` files are followed
    /// already. Warns once until every matched file is followed again: one line for the
    /// condition, not one per file.
    private func refuseOverLimit(_ pathKey: PathKey, status: FileStatus) -> Bool {
        guard files.count >= maxFollowedFiles else { return false }
        overLimit.insert(pathKey)
        // The same text for every such path: made once, not at each of thousands of refusals
        // a scan makes.
        let reason =
            overLimitReason
            ?? "not followed: \(maxFollowedFiles) files are followed already, as many as the open-file limit "
            + "(RLIMIT_NOFILE \(OpenFileLimit.current == Int.max ? "unlimited" : "\(OpenFileLimit.current)")) leaves room for"
        overLimitReason = reason
        unreadable[pathKey] = (status, reason)
        if !limitWarned {
            limitWarned = true
            logger.warning(
                """
                More files match than the open-file limit lets the agent follow; the rest are not read until \
                followed files are released or the limit is raised (LimitNOFILE= in the service unit)
                """,
                metadata: [
                    "files.followed": "\(files.count)", "files.limit": "\(maxFollowedFiles)",
                    "file.path": "\(pathKey.path)",
                ])
        }
        return true
    }

    @discardableResult
    private func add(
        source: String, family: String, age: RotatedSiblings.Age, path: String, status: FileStatus,
        fingerprint: FileFingerprint?, reader: any LogFileReader, offset: UInt64, role: TailedFile.Role,
        now: ContinuousClock.Instant
    ) -> TailedFile {
        let key = FileKey(rawValue: nextKey)
        nextKey += 1
        if reader.offset != offset, let plain = reader as? PlainFileReader {
            try? plain.seek(to: offset)
        }
        var tailHash: UInt64?
        if let plain = reader as? PlainFileReader {
            tailHash = try? FileIdentity.tailHash(of: plain, before: offset)
        }
        let file = TailedFile(
            key: key, source: source, family: family, age: age, path: path, status: status,
            fingerprint: fingerprint, reader: reader,
            framer: LineFramer(maxLineBytes: config.tail.maxLineBytes, startingAt: offset),
            role: role, tailHash: tailHash, now: now, behindKeys: behindKeys)
        files[key] = file
        dueKeys.insert(key)
        if role != .live { nonLiveKeys.insert(key) }
        checkpoint.update(file.checkpointEntry(now: Self.unixNow()))
        return file
    }

    private func openReader(path: String, offset: UInt64) throws -> any LogFileReader {
        if FileIdentity.isGzip(path: path) {
            let reader = try GzipFileReader(path: path, bufferBytes: config.tail.readBytes)
            try reader.seek(to: offset)
            return reader
        }
        return try PlainFileReader(path: path, offset: offset, bufferBytes: config.tail.readBytes)
    }

    /// The offset just after the last newline before `size` (0 when there is none).
    private func lastLineBoundary(_ reader: PlainFileReader, size: UInt64) throws -> UInt64 {
        var end = size
        var block = [UInt8](repeating: 0, count: 65_536)
        while end > 0 {
            let start = end >= UInt64(block.count) ? end - UInt64(block.count) : 0
            let count = Int(end - start)
            let got = try block.withUnsafeMutableBytes {
                try reader.readAt(start, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count]))
            }
            if let index = block[0..<min(got, count)].lastIndex(of: UInt8(ascii: "\n")) {
                return start + UInt64(index) + 1
            }
            end = start
        }
        return 0
    }

    static func unixNow() -> Int64 { Int64(Date().timeIntervalSince1970) }
}

extension UInt64 {
    /// `self - other`, or 0 when `other` is larger.
    func subtractingClamped(_ other: UInt64) -> UInt64 { self > other ? self - other : 0 }
}
