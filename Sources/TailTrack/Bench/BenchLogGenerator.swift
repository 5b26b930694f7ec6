import CZlib
import Glibc

/// Writes the synthetic log the benchmark reads: fixed-length lines, a given share of which
/// match ``BenchWorkload/rulesYAML``'s rule, as a plain file and (optionally) the same lines
/// gzipped.
///
/// Lines are built byte by byte into one reusable block, so generating a few hundred MB takes
/// about as long as writing them.
public struct BenchLogGenerator: Sendable {
    /// Lines to write.
    public var lines: Int
    /// Bytes of each line, its newline included (at least ``minimumLineBytes``).
    public var lineBytes: Int
    /// Share of lines the benchmark rule matches, 0…1.
    public var matchRatio: Double

    /// The shortest line the generator can write: a matching line's fields with no padding.
    public static let minimumLineBytes = 98

    public init(lines: Int, lineBytes: Int, matchRatio: Double) {
        self.lines = max(0, lines)
        self.lineBytes = max(Self.minimumLineBytes, lineBytes)
        self.matchRatio = min(1, max(0, matchRatio))
    }

    /// How many of the lines match: line `i` matches when `⌊(i+1)·r⌋ > ⌊i·r⌋`, which spreads
    /// the matches evenly and makes exactly `⌊lines·r⌋` of them.
    public var matchingLines: Int { Int((Double(lines) * matchRatio).rounded(.down)) }

    /// Whether line `index` is one the rule matches.
    func isMatching(_ index: Int) -> Bool {
        Int((Double(index + 1) * matchRatio).rounded(.down)) > Int((Double(index) * matchRatio).rounded(.down))
    }

    /// Writes the plain file at `plainPath` and, when `gzipPath` is given, the same bytes
    /// gzipped (level 6, as `gzip` and logrotate do) at `gzipPath`.
    public func write(plainPath: String, gzipPath: String?) throws {
        let plain = try OutputFile(path: plainPath)
        defer { plain.close() }
        var compressor: GzipCompressor?
        if let gzipPath {
            compressor = try GzipCompressor(file: OutputFile(path: gzipPath))
        }
        defer { compressor?.finishAndClose() }

        let blockLines = max(1, (1 << 20) / lineBytes)
        var block = [UInt8](repeating: 0, count: blockLines * lineBytes)
        var index = 0
        while index < lines {
            let count = min(blockLines, lines - index)
            block.withUnsafeMutableBytes { fill($0, from: index, count: count) }
            let used = count * lineBytes
            try block.withUnsafeBytes { buffer throws in
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<used])
                try plain.write(bytes)
                try compressor?.compress(bytes)
            }
            index += count
        }
        try compressor?.finish()
    }

    /// Writes lines `index..<index+count` one after another from the start of `buffer`, which
    /// holds at least `count` × ``lineBytes`` bytes.
    func fill(_ buffer: UnsafeMutableRawBufferPointer, from index: Int, count: Int) {
        for line in 0..<count {
            fill(
                UnsafeMutableRawBufferPointer(rebasing: buffer[(line * lineBytes)..<((line + 1) * lineBytes)]),
                index: index + line)
        }
    }

    /// Writes line `index` (padded to ``lineBytes``, newline last) into `target`.
    func fill(_ target: UnsafeMutableRawBufferPointer, index: Int) {
        var cursor = LineCursor(target: target)
        let number = index % 10_000_000
        cursor.append("2026-11-22T10:00:00Z INFO ")
        if isMatching(index) {
            cursor.append("checkout completed user_id=")
            cursor.appendDigits(number, width: 7)
            cursor.append(" email=u")
            cursor.appendDigits(number, width: 7)
            cursor.append("@ex.io amount=")
            cursor.appendDigits(number % 100, width: 1)
            cursor.append(".")
            cursor.appendDigits(number % 97, width: 2)
        } else {
            cursor.append("request served path=/api/items/")
            cursor.appendDigits(number, width: 7)
            cursor.append(" status=200 ms=")
            cursor.appendDigits(number % 1000, width: 1)
        }
        cursor.append(" p=")
        cursor.padWithLetters(until: target.count - 1)
        cursor.append("\n")
    }
}

/// Writes bytes forward into a line's buffer, silently stopping at its end.
private struct LineCursor {
    let target: UnsafeMutableRawBufferPointer
    var position = 0

    init(target: UnsafeMutableRawBufferPointer) {
        self.target = target
    }

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes in
            for byte in bytes { put(byte) }
        }
    }

    /// `value` in decimal, left-padded with zeros to `width` digits.
    mutating func appendDigits(_ value: Int, width: Int) {
        var digits: (UInt64, Int) = (0, 0)
        var rest = value
        repeat {
            digits.0 = digits.0 &* 16 &+ UInt64(rest % 10)
            digits.1 += 1
            rest /= 10
        } while rest > 0
        for _ in digits.1..<max(width, digits.1) { put(UInt8(ascii: "0")) }
        for _ in 0..<digits.1 {
            put(UInt8(ascii: "0") + UInt8(digits.0 & 0xF))
            digits.0 >>= 4
        }
    }

    mutating func padWithLetters(until end: Int) {
        var letter: UInt8 = 0
        while position < end {
            put(UInt8(ascii: "a") + letter)
            letter = (letter + 1) % 26
        }
    }

    private mutating func put(_ byte: UInt8) {
        guard position < target.count else { return }
        target[position] = byte
        position += 1
    }
}

/// A file opened for writing with `write(2)`.
final class OutputFile {
    let path: String
    private var descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        self.path = path
        guard descriptor >= 0 else { throw BenchError("cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close() }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Glibc.write(descriptor, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw BenchError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            base += written
            remaining -= written
        }
    }

    func close() {
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }
}

/// Streams bytes through zlib's gzip encoder into an ``OutputFile``.
final class GzipCompressor {
    private let file: OutputFile
    private let stream: UnsafeMutablePointer<z_stream>
    private var output: [UInt8] = Array(repeating: 0, count: 1 << 18)
    private var open = true

    init(file: OutputFile, level: Int32 = 6) throws {
        self.file = file
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 + 16: a gzip wrapper around a 32 KiB window, as `gzip` writes.
        let result = deflateInit2_(
            stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
            Int32(MemoryLayout<z_stream>.size))
        guard result == Z_OK else {
            stream.deallocate()
            throw BenchError("cannot start gzip compression for \(file.path) (zlib error \(result))")
        }
    }

    deinit {
        finishAndClose()
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    func compress(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
        while stream.pointee.avail_in > 0 {
            try run(flush: Z_NO_FLUSH)
        }
    }

    /// Writes the last compressed bytes and the gzip footer.
    func finish() throws {
        guard open else { return }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        while try run(flush: Z_FINISH) != Z_STREAM_END {}
        finishAndClose()
    }

    /// Releases zlib's state and closes the file (whether or not ``finish()`` was called).
    func finishAndClose() {
        guard open else { return }
        open = false
        deflateEnd(stream)
        file.close()
    }

    @discardableResult
    private func run(flush: Int32) throws -> Int32 {
        let capacity = output.count
        let (result, produced) = output.withUnsafeMutableBytes { buffer -> (Int32, Int) in
            stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(capacity)
            let result = deflate(stream, flush)
            return (result, capacity - Int(stream.pointee.avail_out))
        }
        guard result == Z_OK || result == Z_STREAM_END || result == Z_BUF_ERROR else {
            throw BenchError("gzip compression of \(file.path) failed (zlib error \(result))")
        }
        try output.withUnsafeBytes { buffer throws in
            try file.write(UnsafeRawBufferPointer(rebasing: buffer[0..<produced]))
        }
        return result
    }
}

/// A benchmark that could not run, with what to do about it.
public struct BenchError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
