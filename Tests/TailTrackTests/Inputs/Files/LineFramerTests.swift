import Testing

@testable import TailTrack

@Suite struct LineFramerTests {
    /// Frames `blocks` and returns each line as text with its file offset, plus the chunk's end.
    private func frame(_ blocks: [String], max: Int = 100, flush: Bool = false)
        -> (lines: [String], offsets: [UInt64], end: UInt64, skipped: Int)
    {
        var framer = LineFramer(maxLineBytes: max)
        for block in blocks {
            Array(block.utf8).withUnsafeBytes { framer.append($0) }
        }
        if flush { framer.flushPartial() }
        guard let chunk = framer.takeChunk() else { return ([], [], framer.endOffset, framer.skippedLines) }
        let lines = chunk.lines.map { String(decoding: chunk.bytes[$0.start..<$0.start + $0.length], as: UTF8.self) }
        return (lines, chunk.lines.map(\.fileOffset), chunk.endOffset, framer.skippedLines)
    }

    @Test func splitsLinesAndTracksOffsets() {
        let result = frame(["a\nbb\nccc\n"])
        #expect(result.lines == ["a", "bb", "ccc"])
        #expect(result.offsets == [0, 2, 5])
        #expect(result.end == 9)
    }

    @Test func crlfIsNotPartOfTheLine() {
        let result = frame(["one\r\ntwo\r", "\nthree\n"])
        #expect(result.lines == ["one", "two", "three"])
        #expect(result.offsets == [0, 5, 10])
        #expect(result.end == 16)
    }

    @Test func partialLineIsCarriedAcrossBlocks() {
        let result = frame(["he", "llo wo", "rld\nnext", "\n"])
        #expect(result.lines == ["hello world", "next"])
        #expect(result.offsets == [0, 12])
        #expect(result.end == 17)
    }

    @Test func emptyLinesAreLines() {
        let result = frame(["\n\nx\n\n"])
        #expect(result.lines == ["", "", "x", ""])
        #expect(result.offsets == [0, 1, 2, 4])
    }

    @Test func unterminatedLineWaitsUntilFlushed() {
        var framer = LineFramer(maxLineBytes: 100)
        Array("a\nno newline".utf8).withUnsafeBytes { framer.append($0) }
        let first = framer.takeChunk()
        #expect(first?.lines.count == 1)
        #expect(first?.endOffset == 2)
        #expect(framer.takeChunk() == nil)
        #expect(framer.partialBytes == 10)
        let flushed = framer.flushPartial()
        #expect(flushed)
        let last = framer.takeChunk()
        #expect(last.map { String(decoding: $0.bytes, as: UTF8.self) } == "no newline")
        #expect(last?.lines == [LineSpan(start: 0, length: 10, fileOffset: 2)])
        #expect(last?.endOffset == 12)
    }

    @Test func overLongLineIsSkippedAndCounted() {
        let long = String(repeating: "x", count: 30)
        let result = frame(["ok\n" + long + "\nafter\n"], max: 10)
        #expect(result.lines == ["ok", "after"])
        #expect(result.offsets == [0, 34])
        #expect(result.skipped == 1)
        #expect(result.end == 40)
    }

    @Test func overLongLineAcrossBlocksIsNotBuffered() {
        var framer = LineFramer(maxLineBytes: 10)
        for _ in 0..<100 {
            Array(String(repeating: "y", count: 1000).utf8).withUnsafeBytes { framer.append($0) }
        }
        #expect(framer.bufferedBytes == 0)
        Array("\nz\n".utf8).withUnsafeBytes { framer.append($0) }
        let chunk = framer.takeChunk()
        #expect(chunk?.lines == [LineSpan(start: 0, length: 1, fileOffset: 100_001)])
        #expect(framer.skippedLines == 1)
        #expect(chunk?.endOffset == 100_003)
    }

    @Test func lineOfExactlyTheLimitIsKept() {
        let result = frame(["1234567890\r\n"], max: 10)
        #expect(result.lines == ["1234567890"])
        #expect(result.skipped == 0)
    }

    @Test func onlySkippedBytesStillMoveTheCommitPoint() {
        var framer = LineFramer(maxLineBytes: 4, startingAt: 50)
        Array("toolong\n".utf8).withUnsafeBytes { framer.append($0) }
        let chunk = framer.takeChunk()
        #expect(chunk?.lines == [])
        #expect(chunk?.endOffset == 58)
    }

    @Test func skippingFirstLineStartsAtTheNextLine() {
        var framer = LineFramer(maxLineBytes: 100, startingAt: 7, skippingFirstLine: true)
        Array("middle\nwhole\n".utf8).withUnsafeBytes { framer.append($0) }
        let chunk = framer.takeChunk()
        #expect(chunk?.lines == [LineSpan(start: 0, length: 5, fileOffset: 14)])
    }

    @Test func linesAroundAnOverLongOneInOneBlockKeepTheirBytesAndOffsets() {
        let long = String(repeating: "z", count: 12)
        let result = frame(["car", "ried\r\n" + "a\r\n" + long + "\n" + "b\n" + "tail"], max: 10, flush: true)
        #expect(result.lines == ["carried", "a", "b", "tail"])
        #expect(result.offsets == [0, 9, 25, 27])
        #expect(result.skipped == 1)
        #expect(result.end == 31)
    }

    /// A file read in large blocks from odd offsets: every read lands at an address congruent
    /// to its file offset modulo 64, and so does every line copied into the chunk (the copies
    /// run at full speed), while the lines themselves come out exactly as written.
    @Test func largeBlocksAreCopiedAtAlignedAddressesAndLinesAreIntact() throws {
        let directory = try TemporaryDirectory()
        let lines = (0..<3000).map { "line \($0) " + String(repeating: "x", count: $0 % 97) }
        let text = lines.joined(separator: "\n") + "\n"
        try directory.write("a.log", text)
        let start = UInt64(lines[0].utf8.count + 1 + lines[1].utf8.count + 1)
        let reader = try PlainFileReader(path: directory.file("a.log"), offset: start, bufferBytes: 10_007)
        var framer = LineFramer(maxLineBytes: 1000, startingAt: start)
        var framed: [String] = []
        var misalignedReads = 0
        var misalignedLines = 0
        while case .bytes = try reader.read(
            maxBytes: 10_007,
            { block in
                let address = UInt(bitPattern: block.baseAddress)
                if address % 64 != UInt(framer.offset % 64) { misalignedReads += 1 }
                framer.append(block)
            })
        {
            guard let chunk = framer.takeChunk() else { continue }
            chunk.bytes.withUnsafeBufferPointer { buffer in
                for span in chunk.lines {
                    let address = UInt(bitPattern: buffer.baseAddress) + UInt(span.start)
                    if address % 64 != UInt(span.fileOffset % 64) { misalignedLines += 1 }
                    framed.append(String(decoding: buffer[span.start..<span.start + span.length], as: UTF8.self))
                }
            }
        }
        #expect(misalignedReads == 0)
        #expect(framed == Array(lines.dropFirst(2)))
        // Only the line carried over from one block to the next is assembled on its own.
        #expect(misalignedLines < 40, "\(misalignedLines) of \(framed.count) lines copied misaligned")
    }
}
