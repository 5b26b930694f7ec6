import Glibc

/// What one read of a ``LogFileReader`` produced.
public enum ReadOutcome: Sendable, Equatable {
    /// This many bytes were handed to the consumer.
    case bytes(Int)
    /// Nothing more to read for now (a plain file may still grow; a .gz is complete).
    case endOfData
    /// A .gz ended before its last member's footer: it is still being written, or was cut
    /// short. Reading again later continues where this stopped.
    case truncated
}

/// The size and identity of an open file, from `fstat`.
public struct FileStatus: Sendable, Equatable {
    public var device: UInt64
    public var inode: UInt64
    /// Size on disk (compressed size for a .gz).
    public var size: UInt64
    /// Number of names the file has: 0 once it was deleted while open.
    public var linkCount: UInt64
    /// Last modification, in nanoseconds since the epoch.
    public var modified: Int64
}

/// Reads a log file sequentially in blocks, whatever its encoding; offsets are always in
/// uncompressed bytes, the unit positions are committed in.
///
/// Besides reading, a reader answers what the tailer checks a file with: its fingerprint, the
/// hash of the bytes before an offset (truncation), whether a read reached the end. A plain
/// file answers from its bytes at any offset; a .gz, which has no random access, answers
/// `nil` or `false` (its first bytes are fingerprinted as they are read, by ``TailedFile``, and
/// its saved position is checked on resume by ``GzipFileReader/seekHashingTail(to:)``).
public protocol LogFileReader: AnyObject {
    /// The path the file was opened under.
    var path: String { get }
    /// Uncompressed offset of the next byte a read returns.
    var offset: UInt64 { get }
    /// True for a compressed file, whose offsets cannot be checked against its size.
    var isCompressed: Bool { get }
    /// Reads up to `maxBytes` and hands them to `consume` (valid only during the call).
    func read(maxBytes: Int, _ consume: (UnsafeRawBufferPointer) -> Void) throws -> ReadOutcome
    /// Moves to an uncompressed offset (a .gz decompresses and discards up to it).
    func seek(to offset: UInt64) throws
    /// `fstat` of the open file.
    func status() throws -> FileStatus
    /// Closes the file; further reads fail.
    func close()
    /// True when the last read returned fewer bytes than it asked for: the file's end as it
    /// was then, without a second read to hear it.
    var lastReadWasShort: Bool { get }
    /// Gives the read buffer back until the next read (the file's end was reached).
    func releaseBuffer()
    /// The fingerprint of the file's first line (``FileIdentity/fingerprint(ofPath:)``), read
    /// without moving ``offset``; `nil` while the file has no complete first line.
    func fingerprint() throws -> FileFingerprint?
    /// ``FileIdentity/tailHash(of:before:)`` at `end`: from the bytes the last read left in
    /// the buffer when it holds them (as they were read), else read now.
    func tailHash(before end: UInt64) throws -> UInt64?
    /// The tail check of a file being written: the hash at `end`, read now; when `end` is at or
    /// before ``offset``, the same read also takes up to `readAhead` bytes past ``offset`` for
    /// the next read to hand out, and tells the file's size when it comes back short
    /// (``sizeSeenByTailCheck``).
    func tailHash(before end: UInt64, readAhead: Int) throws -> UInt64?
    /// The file's size as the last tail check's read-ahead found it, or `nil` when it did not
    /// tell.
    var sizeSeenByTailCheck: UInt64? { get }
}

extension FileStatus: InodeIdentified {
    /// The status of an open descriptor (`fstat`), for the readers; `path` names it in errors.
    static func of(descriptor: Int32, path: String) throws -> FileStatus {
        var info = stat()
        guard descriptor >= 0, fstat(descriptor, &info) == 0 else {
            throw FileOperationError(path: path, operation: "stat", errno: descriptor >= 0 ? errno : EBADF)
        }
        return FileStatus(info)
    }
}
