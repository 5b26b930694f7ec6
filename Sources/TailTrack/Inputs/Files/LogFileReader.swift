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
}

extension FileStatus {
    /// True when both describe the same file (device and inode), whatever its size now.
    func isSameFile(as other: FileStatus) -> Bool {
        device == other.device && inode == other.inode
    }

    /// The status of an open descriptor (`fstat`), for the readers; `path` names it in errors.
    static func of(descriptor: Int32, path: String) throws -> FileStatus {
        var info = stat()
        guard descriptor >= 0, fstat(descriptor, &info) == 0 else {
            throw FileOperationError(path: path, operation: "stat", errno: descriptor >= 0 ? errno : EBADF)
        }
        return FileStatus(info)
    }
}
