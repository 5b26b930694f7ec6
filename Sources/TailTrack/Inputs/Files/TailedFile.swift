import Logging

/// One open file the tailer reads: its reader and framer, where it stands in the rotation,
/// and which of its lines are delivered.
///
/// Only touched under the tailer's lock, one step at a time.
final class TailedFile: InodeIdentified {
    /// Where the file stands.
    enum Role: Equatable {
        /// The file currently at its followed path.
        case live
        /// Renamed away (or the copy of a copytruncate, a sibling being backfilled, or a
        /// compressed file matched at its own path): read to its end, then released once
        /// acknowledged.
        case rotated
        /// Deleted while open: read to its end within the deleted-file limits.
        case deleted(since: ContinuousClock.Instant)
    }

    /// The tailer's name for the file while it is followed: chunks and acknowledgements carry it.
    let key: FileKey
    /// The source (`sources[].name`) that matched it.
    let source: String
    /// The followed (live) path this file belongs to, for ordering rotated files first.
    let family: String
    /// How old the file is within its family (rotated siblings first).
    var age: RotatedSiblings.Age
    /// The file's place in the order a step reads in (the tailer numbers its files).
    var readOrder = 0
    /// Where the file is now (it changes when it is renamed, or continued in its copy).
    var path: String
    var device: UInt64
    var inode: UInt64
    /// Its first line's fingerprint, `nil` until it has one: with the offset, a line's id.
    var fingerprint: FileFingerprint?
    /// The open file (plain or .gz), read from where the framer stands.
    var reader: any LogFileReader {
        didSet { noteBehind() }
    }
    /// Cuts what is read into lines, and holds them until a chunk is taken.
    var framer: LineFramer
    var role: Role
    /// Whether this file's position goes to the checkpoint (false for a file whose inode
    /// another follower took over).
    var writesCheckpoint = true
    /// Offset up to which every line is acknowledged.
    var committed: UInt64 {
        didSet { noteBehind() }
    }
    /// End offset of the last chunk handed over.
    var emittedEnd: UInt64
    /// For each chunk handed over and not yet acknowledged: its end and the tail hash there.
    var pendingHashes: [(end: UInt64, tailHash: UInt64?)] = []
    /// Tail hash at ``committed``.
    var committedTailHash: UInt64?
    /// Size at the last look (compressed size for a .gz).
    var size: UInt64 {
        didSet { noteBehind() }
    }
    /// The keys of the files that are behind (plain, larger than what is acknowledged), kept
    /// up to date by every file as its size and position change: the once-a-second summary
    /// looks at those, not at all of 10,000 quiet files.
    let behindKeys: FileKeySet
    /// True when a read may find new bytes.
    var readDue = true
    /// True once a read found no more bytes (the file's end at the time).
    var reachedEnd = false
    /// True when a .gz ended before its footer at the last read.
    var gzipTruncated = false
    /// Last time bytes were read or the size changed.
    var lastActivity: ContinuousClock.Instant
    /// True when nothing more will be read (end reached, partial line flushed).
    var finished = false {
        didSet { if finished && sizeWhenFinished == nil { sizeWhenFinished = size } }
    }
    /// ``size`` when the file was finished, as the look before its last read found it: a .gz
    /// read whole that is larger later had a member appended since.
    private(set) var sizeWhenFinished: UInt64?
    /// The first bytes of a .gz followed from its start before its first line could be read
    /// (found while logrotate was still compressing it): its fingerprint is computed from
    /// them as they are read, exactly as ``FileIdentity/fingerprint(ofPath:)`` would, so that
    /// its lines get the ids a later read of the same file gives them. `nil` when not needed.
    private var head: [UInt8]?

    init(
        key: FileKey, source: String, family: String, age: RotatedSiblings.Age, path: String,
        status: FileStatus, fingerprint: FileFingerprint?, reader: any LogFileReader,
        framer: LineFramer, role: Role, tailHash: UInt64?, now: ContinuousClock.Instant,
        behindKeys: FileKeySet = FileKeySet()
    ) {
        self.behindKeys = behindKeys
        self.key = key
        self.source = source
        self.family = family
        self.age = age
        self.path = path
        self.device = status.device
        self.inode = status.inode
        self.fingerprint = fingerprint
        self.reader = reader
        self.framer = framer
        self.role = role
        self.committed = framer.endOffset
        self.emittedEnd = framer.endOffset
        self.committedTailHash = tailHash
        self.size = status.size
        self.lastActivity = now
        if fingerprint == nil, reader.isCompressed, reader.offset == 0 { head = [] }
        noteBehind()
    }

    /// True when the file has bytes not yet acknowledged, as far as its size says (never for
    /// a .gz, whose size is compressed).
    var isBehind: Bool { !reader.isCompressed && size > committed }

    private func noteBehind() {
        if isBehind { behindKeys.keys.insert(key) } else { behindKeys.keys.remove(key) }
    }

    var checkpointKey: CheckpointKey { CheckpointKey(source: source, device: device, inode: inode) }
    var identity: FileIdentity { FileIdentity(device: device, inode: inode, fingerprint: fingerprint) }
    var isLive: Bool { role == .live }
    /// The tail hash of the bytes before ``emittedEnd`` as they were read, when known: what a
    /// check for truncation compares the file with.
    var tailHashAtEmittedEnd: UInt64? {
        pendingHashes.last?.tailHash ?? (emittedEnd == committed ? committedTailHash : nil)
    }
    /// True when everything handed over is acknowledged.
    var fullyAcknowledged: Bool { committed >= emittedEnd }

    /// Reads blocks until a chunk is full or the file's current end; returns the chunk, if
    /// any lines (or skipped bytes) were framed.
    func read(readBytes: Int, chunkBytes: Int, chunkLines: Int, now: ContinuousClock.Instant) throws -> LineChunk? {
        if fingerprint == nil {
            fingerprint = try reader.fingerprint()
        }
        readDue = false
        while true {
            let outcome = try reader.read(maxBytes: readBytes) { block in
                if self.head != nil { self.noteHead(block) }
                self.framer.append(block)
            }
            switch outcome {
            case .bytes:
                lastActivity = now
                reachedEnd = false
                gzipTruncated = false
                if framer.bufferedBytes >= chunkBytes || framer.bufferedLines >= chunkLines {
                    readDue = true
                    return makeChunk()
                }
                // A plain file that gave less than asked is at its end for now: no second read
                // to hear it (a write since is reported and read at a later step).
                if reader.lastReadWasShort { return endReached() }
            case .endOfData:
                return endReached()
            case .truncated:
                reachedEnd = true
                gzipTruncated = true
                return makeChunk()
            }
        }
    }

    /// Keeps a .gz's first bytes until its fingerprint can be computed from them.
    private func noteHead(_ block: UnsafeRawBufferPointer) {
        guard var bytes = head, fingerprint == nil else {
            head = nil
            return
        }
        head = nil
        bytes.append(contentsOf: block.prefix(FileFingerprint.headLimit - bytes.count))
        if let computed = bytes.withUnsafeBytes({ FileFingerprint.compute(head: $0) }) {
            fingerprint = computed
        } else {
            head = bytes
        }
    }

    /// The file's current end was read: its read buffer goes back until the next read.
    private func endReached() -> LineChunk? {
        reachedEnd = true
        gzipTruncated = false
        // The chunk first: its tail hash comes from the bytes the buffer still holds.
        let chunk = makeChunk()
        reader.releaseBuffer()
        return chunk
    }

    /// Emits the unterminated last line: the file will not grow any more.
    func flush() -> LineChunk? {
        framer.flushPartial()
        return makeChunk()
    }

    /// Turns what the framer holds into a chunk and remembers its end for acknowledgement.
    func makeChunk() -> LineChunk? {
        if fingerprint == nil, let computed = try? reader.fingerprint() {
            fingerprint = computed
        }
        guard let taken = framer.takeChunk() else { return nil }
        let print: FileFingerprint
        if let fingerprint {
            print = fingerprint
        } else {
            // A short file with no newline at all, flushed at its end: its whole content.
            let content = taken.bytes[(taken.lines.first?.start ?? 0)...].prefix(FileFingerprint.headLimit)
            print = FileFingerprint(
                value: content.withUnsafeBytes { StableHasher.hash64(bytes: $0) }, length: content.count)
            fingerprint = print
        }
        let hash = try? reader.tailHash(before: taken.endOffset)
        pendingHashes.append((taken.endOffset, hash))
        emittedEnd = taken.endOffset
        return LineChunk(
            source: source, path: path, fingerprint: print, file: key, bytes: taken.bytes,
            lines: taken.lines, endOffset: taken.endOffset)
    }

    /// Records that everything before `offset` is delivered.
    func acknowledge(_ offset: UInt64) {
        guard offset > committed else { return }
        committed = offset
        while let first = pendingHashes.first, first.end <= offset {
            if first.end == offset { committedTailHash = first.tailHash }
            pendingHashes.removeFirst()
        }
    }

    /// The checkpoint entry for the acknowledged position.
    func checkpointEntry(now: Int64) -> CheckpointEntry {
        CheckpointEntry(
            source: source, path: path, device: device, inode: inode, fingerprint: fingerprint,
            offset: committed, tailHash: reader.isCompressed ? nil : committedTailHash, size: size, updated: now)
    }
}

/// A set of file keys shared by the tailer and its files (only touched under its lock).
final class FileKeySet {
    var keys = Set<FileKey>()
}
