import Glibc

/// Cuts blocks of file bytes into complete lines, ready to become a ``LineChunk``.
///
/// Blocks arrive as they are read (64 KiB–1 MiB); a line may span several of them, so the
/// unterminated end of a block is carried over to the next one. Lines end at `\n`; a `\r`
/// just before it is not part of the line. The framer knows the file offset of every byte
/// it is given, so each line carries the offset of its first byte and ``endOffset`` is the
/// offset just after the last consumed newline — the position to commit.
///
/// A line longer than ``maxLineBytes`` is not buffered: its bytes are discarded up to its
/// newline and it is counted in ``skippedLines``, so one huge line cannot exhaust memory or
/// stop the lines after it.
public struct LineFramer: Sendable {
    /// Longest line kept, without its `\n` / `\r\n`.
    public let maxLineBytes: Int
    /// Lines discarded because they were longer than ``maxLineBytes``.
    public private(set) var skippedLines = 0
    /// Offset just after the last byte given to ``append(_:)``.
    public private(set) var offset: UInt64
    /// Offset just after the last complete line (emitted or skipped): where reading would
    /// resume if everything framed so far were committed.
    public private(set) var endOffset: UInt64

    /// Bytes of the lines framed since the last ``takeChunk()`` (with the newlines of those
    /// copied block by block, and up to 63 filler bytes before a block: only the spans say
    /// where lines are).
    private var bytes: [UInt8] = []
    /// The lines framed since the last ``takeChunk()``.
    private var lines: [LineSpan] = []
    /// The start of an unterminated line, carried to the next block.
    private var pending: [UInt8] = []
    /// File offset of the first byte of the line being assembled.
    private var lineStart: UInt64
    /// True while discarding the rest of an over-long line.
    private var skipping = false
    /// ``endOffset`` when the last chunk was taken.
    private var takenEndOffset: UInt64

    /// A framer for bytes that start at `offset` in the file, which must be a line start.
    /// With `skippingFirstLine`, bytes up to the first newline are discarded (used when
    /// reading starts in the middle of a line).
    public init(maxLineBytes: Int, startingAt offset: UInt64 = 0, skippingFirstLine: Bool = false) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.offset = offset
        self.endOffset = offset
        self.lineStart = offset
        self.takenEndOffset = offset
        self.skipping = skippingFirstLine
    }

    /// Bytes of complete lines waiting for ``takeChunk()``.
    public var bufferedBytes: Int { bytes.count }
    /// Complete lines waiting for ``takeChunk()``.
    public var bufferedLines: Int { lines.count }
    /// Bytes of an unterminated last line (or of an over-long line being skipped) seen so far.
    public var partialBytes: UInt64 { offset - endOffset }
    /// True when ``takeChunk()`` has something to hand over: lines, or skipped bytes whose
    /// end must still be committed.
    public var hasChunk: Bool { !lines.isEmpty || endOffset != takenEndOffset }

    /// Frames the next block of the file (the bytes right after ``offset``).
    ///
    /// The block's complete lines are copied into the chunk in one piece, newlines included
    /// (a line's ``LineSpan`` leaves its `\n` / `\r\n` out): one copy per block instead of
    /// one per line. Only a line carried over from the previous block is assembled on its own.
    public mutating func append(_ block: UnsafeRawBufferPointer) {
        guard let base = block.baseAddress, block.count > 0 else { return }
        let count = block.count
        let blockOffset = offset
        offset = blockOffset + UInt64(count)
        var index = 0
        if skipping || !pending.isEmpty {
            guard let hit = memchr(base, 0x0A, count) else {
                carry(block)
                return
            }
            let newline = base.distance(to: UnsafeRawPointer(hit))
            finishLine(with: UnsafeRawBufferPointer(start: base, count: newline))
            index = newline + 1
            lineStart = blockOffset + UInt64(index)
            endOffset = lineStart
        }
        let text = base.assumingMemoryBound(to: UInt8.self)
        // The last newline is usually a line's length from the end: look backwards for it.
        var end = count
        while end > index, text[end - 1] != 0x0A { end -= 1 }
        guard end > index else {
            carry(UnsafeRawBufferPointer(start: base + index, count: count - index))
            return
        }
        padForAlignedCopy(from: base + index, count: end - index)
        let regionStart = bytes.count - index
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: base + index, count: end - index))
        while index < end {
            // The region ends with a newline, so every search finds one.
            guard let hit = memchr(base + index, 0x0A, end - index) else { break }
            let newline = base.distance(to: UnsafeRawPointer(hit))
            var length = newline - index
            if length > 0, text[newline - 1] == UInt8(ascii: "\r") { length -= 1 }
            if length > maxLineBytes {
                skippedLines += 1
            } else {
                lines.append(
                    LineSpan(start: regionStart + index, length: length, fileOffset: blockOffset + UInt64(index)))
            }
            index = newline + 1
        }
        lineStart = blockOffset + UInt64(end)
        endOffset = lineStart
        if end < count { carry(UnsafeRawBufferPointer(start: base + end, count: count - end)) }
    }

    /// Emits the unterminated last line as a line (or ends the skip of an over-long one).
    ///
    /// Used at the end of a rotated or deleted file once no newline came for the partial
    /// line timeout: no more bytes will follow. Returns whether anything changed.
    @discardableResult
    public mutating func flushPartial() -> Bool {
        guard offset > endOffset else { return false }
        if !skipping, !pending.isEmpty {
            let start = bytes.count
            bytes.append(contentsOf: pending)
            lines.append(LineSpan(start: start, length: pending.count, fileOffset: lineStart))
        }
        pending.removeAll(keepingCapacity: true)
        skipping = false
        lineStart = offset
        endOffset = offset
        return true
    }

    /// Hands over the lines framed so far and their bytes, with the offset to commit once
    /// they are delivered; `nil` when there is nothing new.
    public mutating func takeChunk() -> (bytes: [UInt8], lines: [LineSpan], endOffset: UInt64)? {
        guard hasChunk else { return nil }
        let result = (bytes: bytes, lines: lines, endOffset: endOffset)
        // The next chunk is usually about as large: with room to spare, its storage is
        // allocated once and not grown (a copy) by its last block.
        let capacity = bytes.count + bytes.count / 2
        bytes = []
        bytes.reserveCapacity(capacity)
        lines.removeAll(keepingCapacity: true)
        takenEndOffset = endOffset
        return result
    }

    /// Before a large copy, adds filler bytes (no line's) to ``bytes`` until its end has the
    /// same address modulo 64 as `source`: `memmove` of misaligned blocks runs about 4 × slower
    /// on AMD Zen (see ``PlainFileReader``). Spans index past the filler.
    private mutating func padForAlignedCopy(from source: UnsafeRawPointer, count: Int) {
        let alignment = PlainFileReader.copyAlignment
        guard count >= Self.alignedCopyBytes else { return }
        bytes.reserveCapacity(bytes.count + alignment + count)
        let end = bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) &+ UInt($0.count) }
        let filler = Int((UInt(bitPattern: source) &- end) % UInt(alignment))
        if filler > 0 { bytes.append(contentsOf: repeatElement(0x0A, count: filler)) }
    }

    /// Copies shorter than this are not worth aligning.
    private static let alignedCopyBytes = 4096

    /// Ends the line being assembled at a newline; `piece` is its part in the current block.
    private mutating func finishLine(with piece: UnsafeRawBufferPointer) {
        if skipping {
            skipping = false
            return
        }
        var length = pending.count + piece.count
        let lastByte = piece.isEmpty ? pending.last : piece.last
        if lastByte == UInt8(ascii: "\r") { length -= 1 }
        if length > maxLineBytes {
            pending.removeAll(keepingCapacity: true)
            skippedLines += 1
            return
        }
        let start = bytes.count
        if !pending.isEmpty {
            bytes.append(contentsOf: pending)
            pending.removeAll(keepingCapacity: true)
        }
        bytes.append(contentsOf: piece)
        lines.append(LineSpan(start: start, length: length, fileOffset: lineStart))
    }

    /// Keeps the unterminated end of a block for the next one, unless the line is already
    /// too long to keep (then it is skipped up to its newline).
    private mutating func carry(_ tail: UnsafeRawBufferPointer) {
        if skipping { return }
        // One byte of slack for a `\r` that may turn out to end the line.
        if pending.count + tail.count > maxLineBytes + 1 {
            pending.removeAll(keepingCapacity: true)
            skipping = true
            skippedLines += 1
            return
        }
        pending.append(contentsOf: tail)
    }
}
