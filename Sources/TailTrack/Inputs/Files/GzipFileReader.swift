import CZlib
import Glibc

/// Reads a gzip file (as logrotate's `compress` makes them) as its uncompressed bytes.
///
/// Decompression streams through fixed buffers. Concatenated members (`cat a.gz b.gz`, or
/// a compressor that flushes members) are read one after the other. When the input ends
/// before the last member's footer, the file is still being written (or was cut short):
/// the read reports ``ReadOutcome/truncated`` and a later read continues from there.
public final class GzipFileReader: LogFileReader {
    public let path: String
    public private(set) var offset: UInt64 = 0
    public var isCompressed: Bool { true }
    private var descriptor: Int32
    private let stream: UnsafeMutablePointer<z_stream>
    private var input: UnsafeMutableRawBufferPointer
    private var output: UnsafeMutableRawBufferPointer
    /// Offset in the compressed file of the next input byte to read.
    private var compressedOffset: UInt64 = 0
    /// True after a member ended and before the next one started.
    private var betweenMembers = false
    private var streamOpen = false

    /// Opens `path` read-only at uncompressed offset 0.
    public init(path: String, bufferBytes: Int = 262_144) throws {
        let fd = FollowedFileOpen.descriptor(path: path)
        guard fd >= 0 else { throw FileOperationError(path: path, operation: "open", errno: errno) }
        self.path = path
        self.descriptor = fd
        self.stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        self.input = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Self.inputBytes + PlainFileReader.copyAlignment, alignment: PlainFileReader.copyAlignment)
        self.output = UnsafeMutableRawBufferPointer.allocate(byteCount: max(4096, bufferBytes), alignment: 16)
        try startStream()
    }

    deinit {
        close()
        if streamOpen { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        input.deallocate()
        output.deallocate()
    }

    public func read(maxBytes: Int, _ consume: (UnsafeRawBufferPointer) -> Void) throws -> ReadOutcome {
        let capacity = min(maxBytes, output.count)
        guard let outputBase = output.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return .endOfData }
        stream.pointee.next_out = outputBase
        stream.pointee.avail_out = uInt(capacity)
        while stream.pointee.avail_out == uInt(capacity) {
            if stream.pointee.avail_in == 0 {
                let got = try fillInput()
                if got == 0 {
                    return betweenMembers ? .endOfData : .truncated
                }
            }
            if betweenMembers {
                // More input after a complete member: another member follows.
                guard inflateReset(stream) == Z_OK else { throw zlibError("restart") }
                betweenMembers = false
            }
            let result = inflate(stream, Z_NO_FLUSH)
            switch result {
            case Z_OK:
                continue
            case Z_STREAM_END:
                betweenMembers = true
                if stream.pointee.avail_out == uInt(capacity) { continue }
            case Z_BUF_ERROR:
                // No progress possible without more input; the loop reads some.
                continue
            default:
                throw zlibError("decompress")
            }
        }
        let produced = capacity - Int(stream.pointee.avail_out)
        offset += UInt64(produced)
        consume(UnsafeRawBufferPointer(start: output.baseAddress, count: produced))
        return .bytes(produced)
    }

    /// Decompresses and discards up to `target`; from the start again when it lies behind.
    public func seek(to target: UInt64) throws {
        if target < offset { try restart() }
        while offset < target {
            let wanted = Int(min(UInt64(output.count), target - offset))
            let outcome = try read(maxBytes: wanted) { _ in }
            guard case .bytes = outcome else { return }
        }
    }

    /// Seeks to `target` from the start and returns ``FileIdentity/tailHash(of:before:)``'s
    /// hash of the bytes just before it, taken on the way (a .gz has no random access, so the
    /// check on resume costs no second pass); `nil` when the file ends before `target`.
    public func seekHashingTail(to target: UInt64) throws -> UInt64? {
        try restart()
        let windowStart = target.subtractingClamped(UInt64(FileIdentity.tailWindow))
        var window: [UInt8] = []
        window.reserveCapacity(FileIdentity.tailWindow)
        while offset < target {
            let start = offset
            let wanted = Int(min(UInt64(output.count), target - offset))
            let outcome = try read(maxBytes: wanted) { bytes in
                // The part of this block that falls inside the window.
                let from = windowStart > start ? Int(windowStart - start) : 0
                if from < bytes.count { window.append(contentsOf: bytes[from...]) }
            }
            guard case .bytes = outcome else { return nil }
        }
        guard target > 0 else { return nil }
        return window.withUnsafeBytes { StableHasher.hash64(bytes: $0) }
    }

    public func status() throws -> FileStatus {
        try FileStatus.of(descriptor: descriptor, path: path)
    }

    public func close() {
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }

    // MARK: What a .gz cannot tell cheaply

    /// Always false: a short read is no end (the stream may hold more), the next read says so.
    public var lastReadWasShort: Bool { false }

    /// Keeps its buffers: the stream's state lives in them between reads.
    public func releaseBuffer() {}

    /// `nil`: the first line would be decompressed a second time; ``TailedFile`` fingerprints
    /// the first bytes as they are read instead.
    public func fingerprint() throws -> FileFingerprint? { nil }

    /// `nil`: no random access. A .gz's saved position carries no tail hash; it is checked on
    /// resume by ``seekHashingTail(to:)``.
    public func tailHash(before end: UInt64) throws -> UInt64? { nil }

    /// `nil`: a .gz is finished, not written to; it is never checked for truncation.
    public func tailHash(before end: UInt64, readAhead: Int) throws -> UInt64? { nil }

    public var sizeSeenByTailCheck: UInt64? { nil }

    private func startStream() throws {
        // 15 + 32: a 32 KiB window, gzip or zlib header detected automatically.
        let result = inflateInit2_(stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard result == Z_OK else { throw zlibError("start decompressing") }
        streamOpen = true
    }

    private func restart() throws {
        guard inflateReset(stream) == Z_OK else { throw zlibError("restart") }
        stream.pointee.avail_in = 0
        stream.pointee.next_in = nil
        compressedOffset = 0
        offset = 0
        betweenMembers = false
    }

    /// Reads the next compressed bytes into the input buffer; 0 at the current end of file.
    /// Compressed bytes read at a time.
    private static let inputBytes = 65_536

    private func fillInput() throws -> Int {
        guard descriptor >= 0, let base = input.baseAddress else {
            throw FileOperationError(path: path, operation: "read", detail: "the file is closed")
        }
        while true {
            // At the same address modulo 64 as the file offset: see PlainFileReader.
            let start = base + Int(compressedOffset % UInt64(PlainFileReader.copyAlignment))
            let got = pread(descriptor, start, Self.inputBytes, off_t(compressedOffset))
            if got < 0 {
                if errno == EINTR { continue }
                throw FileOperationError(path: path, operation: "read", errno: errno)
            }
            compressedOffset += UInt64(got)
            stream.pointee.next_in = start.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = uInt(got)
            return got
        }
    }

    private func zlibError(_ operation: String) -> FileOperationError {
        let message = stream.pointee.msg.map { String(cString: $0) } ?? "corrupt gzip data"
        return FileOperationError(path: path, operation: operation, detail: message)
    }
}
