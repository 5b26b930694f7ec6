import Glibc
import Synchronization

/// Reads an uncompressed file with `pread` at an explicit offset into one reusable buffer.
///
/// Each read lands at the buffer position that has the same address modulo 64 as the file
/// offset has: the kernel copies from the page cache with `rep movsb`, which on AMD Zen runs
/// about 4 × slower when source and destination are misaligned to each other (measured here:
/// 1.8 against 7.3 GB/s for 256 KiB reads).
///
/// The buffer is allocated at the first read and can be given back with ``releaseBuffer()``
/// once the file's end is reached: an agent following 10,000 quiet files holds no read
/// buffers for them.
///
/// The descriptor stays valid after the file is renamed or deleted, which is what lets the
/// tailer finish a rotated file.
public final class PlainFileReader: LogFileReader {
    public let path: String
    public private(set) var offset: UInt64
    public var isCompressed: Bool { false }
    private var descriptor: Int32
    private var buffer: UnsafeMutableRawBufferPointer?
    private let bufferBytes: Int
    public private(set) var lastReadWasShort = false
    /// The file range the buffer holds now, from the last read or tail check (empty when
    /// `heldEnd == heldStart`), at the buffer position congruent to `heldStart` modulo 64.
    private var heldStart: UInt64 = 0
    private var heldEnd: UInt64 = 0
    /// True when the held bytes after ``offset`` were read ahead by a tail check and the
    /// next read hands them out instead of reading again.
    private var holdsReadAhead = false
    /// True when that read-ahead got fewer bytes than it asked for (the file's end then).
    private var readAheadWasShort = false
    public private(set) var sizeSeenByTailCheck: UInt64?

    /// Opens `path` read-only, positioned at `offset`.
    public init(path: String, offset: UInt64 = 0, bufferBytes: Int = 262_144) throws {
        let fd = FollowedFileOpen.descriptor(path: path)
        guard fd >= 0 else { throw FileOperationError(path: path, operation: "open", errno: errno) }
        self.path = path
        self.offset = offset
        self.descriptor = fd
        self.bufferBytes = max(4096, bufferBytes)
    }

    deinit {
        close()
        if let buffer { ReadBufferPool.giveBack(buffer) }
    }

    public func releaseBuffer() {
        if let buffer { ReadBufferPool.giveBack(buffer) }
        buffer = nil
        forgetHeldBytes()
    }

    public func read(maxBytes: Int, _ consume: (UnsafeRawBufferPointer) -> Void) throws -> ReadOutcome {
        if let buffer, holdsReadAhead, heldStart <= offset, offset < heldEnd {
            // A tail check just read these bytes along with the window before them.
            let available = Int(heldEnd - offset)
            let count = min(available, maxBytes)
            holdsReadAhead = count < available
            lastReadWasShort = !holdsReadAhead && readAheadWasShort
            let start = Int(heldStart % UInt64(Self.copyAlignment)) + Int(offset - heldStart)
            offset += UInt64(count)
            consume(UnsafeRawBufferPointer(rebasing: buffer[start..<start + count]))
            return .bytes(count)
        }
        holdsReadAhead = false
        sizeSeenByTailCheck = nil
        let start = Int(offset % UInt64(Self.copyAlignment))
        let count = min(maxBytes, bufferBytes)
        let buffer = allocatedBuffer(holding: start + count)
        let got = try readAt(offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[start..<start + count]))
        lastReadWasShort = got < count
        heldStart = offset
        heldEnd = offset + UInt64(got)
        guard got > 0 else { return .endOfData }
        offset += UInt64(got)
        consume(UnsafeRawBufferPointer(rebasing: buffer[start..<start + got]))
        return .bytes(got)
    }

    /// A file written a line at a time costs one `pread` per write instead of two (the check
    /// that it was not truncated, and the read): the read-ahead is what
    /// ``read(maxBytes:_:)`` hands out next.
    public func tailHash(before end: UInt64, readAhead: Int) throws -> UInt64? {
        guard end > 0 else { return nil }
        let start = end - min(UInt64(FileIdentity.tailWindow), end)
        let window = Int(end - start)
        var count = window
        if readAhead > 0, end <= offset, offset - start <= UInt64(bufferBytes / 2) {
            count = Int(offset - start) + min(readAhead, bufferBytes - Int(offset - start))
        }
        let position = Int(start % UInt64(Self.copyAlignment))
        let buffer = allocatedBuffer(holding: position + count)
        let got = try readAt(start, into: UnsafeMutableRawBufferPointer(rebasing: buffer[position..<position + count]))
        heldStart = start
        heldEnd = start + UInt64(got)
        holdsReadAhead = count > window && heldEnd > offset
        readAheadWasShort = got < count
        sizeSeenByTailCheck = count > window && got >= window && got < count ? heldEnd : nil
        guard got >= window else { return nil }
        return StableHasher.hash64(bytes: UnsafeRawBufferPointer(rebasing: buffer[position..<position + window]))
    }

    public func tailHash(before end: UInt64) throws -> UInt64? {
        if let held = heldTailHash(before: end) { return held }
        return try FileIdentity.tailHash(of: self, before: end)
    }

    public func fingerprint() throws -> FileFingerprint? {
        try FileIdentity.fingerprint(of: self)
    }

    /// ``FileIdentity/tailHash(of:before:)`` at `end` from the bytes the buffer still holds
    /// from the last read (as they were read), or `nil` when it does not hold them all.
    public func heldTailHash(before end: UInt64) -> UInt64? {
        guard let buffer, end > 0 else { return nil }
        let start = end - min(UInt64(FileIdentity.tailWindow), end)
        guard heldStart <= start, end <= heldEnd else { return nil }
        let position = Int(heldStart % UInt64(Self.copyAlignment)) + Int(start - heldStart)
        return StableHasher.hash64(
            bytes: UnsafeRawBufferPointer(rebasing: buffer[position..<position + Int(end - start)]))
    }

    /// The read buffer, at least `bytes` long: a tail check of a file written a line at a time
    /// needs a few KiB, not the 256 KiB of a full read (which would come from `brk` and go back
    /// to it at every line).
    private func allocatedBuffer(holding bytes: Int) -> UnsafeMutableRawBufferPointer {
        if let buffer, buffer.count >= bytes { return buffer }
        if let buffer { ReadBufferPool.giveBack(buffer) }
        let size = bytes >= bufferBytes ? bufferBytes + Self.copyAlignment : (bytes + 4095) & ~4095
        let allocated = ReadBufferPool.take(byteCount: size)
        buffer = allocated
        return allocated
    }

    private func forgetHeldBytes() {
        heldStart = 0
        heldEnd = 0
        holdsReadAhead = false
        sizeSeenByTailCheck = nil
    }

    /// Reads start at the buffer address that is congruent to the file offset modulo this.
    static let copyAlignment = 64

    public func seek(to offset: UInt64) throws {
        self.offset = offset
        holdsReadAhead = false
    }

    /// Reads the bytes at `position` without moving ``offset``; returns how many were read.
    public func readAt(_ position: UInt64, into target: UnsafeMutableRawBufferPointer) throws -> Int {
        guard descriptor >= 0 else {
            throw FileOperationError(path: path, operation: "read", detail: "the file is closed")
        }
        while true {
            let got = pread(descriptor, target.baseAddress, target.count, off_t(position))
            if got >= 0 { return got }
            if errno == EINTR { continue }
            throw FileOperationError(path: path, operation: "read", errno: errno)
        }
    }

    public func status() throws -> FileStatus {
        try FileStatus.of(descriptor: descriptor, path: path)
    }

    /// The offset just after the last newline before `size` (0 when there is none): where
    /// `start_at: end` begins.
    public func lastLineBoundary(before size: UInt64) throws -> UInt64 {
        var end = size
        var block = [UInt8](repeating: 0, count: 65_536)
        while end > 0 {
            let start = end >= UInt64(block.count) ? end - UInt64(block.count) : 0
            let count = Int(end - start)
            let got = try block.withUnsafeMutableBytes {
                try readAt(start, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count]))
            }
            if let index = block[0..<min(got, count)].lastIndex(of: UInt8(ascii: "\n")) {
                return start + UInt64(index) + 1
            }
            end = start
        }
        return 0
    }

    /// True when the file begins with gzip's magic bytes (1f 8b): compressed, whatever its name.
    public func beginsWithGzipMagic() throws -> Bool {
        var magic: (UInt8, UInt8) = (0, 0)
        let got = try withUnsafeMutableBytes(of: &magic) { try readAt(0, into: $0) }
        return got == 2 && magic == FileIdentity.gzipMagic
    }

    public func close() {
        forgetHeldBytes()
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }
}

extension FileStatus {
    init(_ info: stat) {
        self.init(
            device: UInt64(info.st_dev),
            inode: UInt64(info.st_ino),
            size: UInt64(max(0, info.st_size)),
            linkCount: UInt64(info.st_nlink),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        )
    }

    /// `stat` of a path (following symlinks); `nil` when it does not exist.
    static func of(path: String) throws -> FileStatus? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw FileOperationError(path: path, operation: "stat", errno: errno)
        }
        return FileStatus(info)
    }
}

/// Small read buffers given back by readers that reached their file's end, for the next read
/// to take: with thousands of files written a line at a time, every line would otherwise cost
/// an aligned allocation and its free (the slowest kind in glibc, and a large one, which makes
/// malloc consolidate its free lists each time). At most ``capacity`` are kept (1 MiB).
enum ReadBufferPool {
    /// The one size pooled: what a read of a few lines (or a tail check's read-ahead) needs.
    static let pooledBytes = 8192
    /// Most buffers kept: as many as files a step of many quiet files reads at once, a line
    /// each (each holds its buffer from its tail check until its end is reached).
    static let capacity = 128

    /// A free buffer: owned by the pool alone while it is in there.
    private struct Free: @unchecked Sendable {
        var buffer: UnsafeMutableRawBufferPointer
    }

    private static let free = Mutex<[Free]>([])

    /// A buffer of `byteCount` bytes aligned to ``PlainFileReader/copyAlignment``: a pooled
    /// one when that size is pooled and one is free.
    static func take(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        if byteCount == pooledBytes, let pooled = free.withLock({ $0.popLast() }) { return pooled.buffer }
        return .allocate(byteCount: byteCount, alignment: PlainFileReader.copyAlignment)
    }

    /// Keeps `buffer` for a later ``take(byteCount:)``, or frees it.
    static func giveBack(_ buffer: UnsafeMutableRawBufferPointer) {
        if buffer.count == pooledBytes {
            let kept = free.withLock { free in
                guard free.count < capacity else { return false }
                free.append(Free(buffer: buffer))
                return true
            }
            if kept { return }
        }
        buffer.deallocate()
    }

    /// Buffers kept now (for tests).
    static var count: Int { free.withLock { $0.count } }
}
