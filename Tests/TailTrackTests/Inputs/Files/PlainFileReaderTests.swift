import Foundation
import Glibc
import Testing

@testable import TailTrack

/// The tail check that reads ahead, and tail hashes from the bytes a read holds.
@Suite struct PlainFileReaderTests {
    /// 300 bytes of numbered lines (longer than the 256-byte tail window).
    private let firstPart = (1...30).map { "line \(String(format: "%04d", $0))\n" }.joined()

    /// Reads everything there is now.
    private func readAll(_ reader: PlainFileReader) throws -> String {
        var read: [UInt8] = []
        while case .bytes = try reader.read(maxBytes: 4096, { read += $0 }) {
            if reader.lastReadWasShort { break }
        }
        return String(decoding: read, as: UTF8.self)
    }

    /// A reader that has read ``firstPart``, all of the file so far.
    private func readerAtTheEnd() throws -> (TemporaryDirectory, PlainFileReader) {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", firstPart)
        let reader = try PlainFileReader(path: directory.file("app.log"))
        #expect(try readAll(reader) == firstPart)
        return (directory, reader)
    }

    @Test func aTailCheckReadsTheNewBytesInTheSamePread() throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", firstPart)
        let path = directory.file("app.log")
        let reader = try PlainFileReader(path: path)
        #expect(try readAll(reader) == firstPart)
        let end = UInt64(firstPart.utf8.count)
        let expected = try FileIdentity.tailHash(of: reader, before: end)

        try directory.append("app.log", "line 0031\n")
        #expect(try reader.tailHash(before: end, readAhead: 4096) == expected)
        // Overwrite the new line in place: the read hands out what the check read with it,
        // so it made no second pread.
        let fd = open(path, O_WRONLY)
        _ = "LINE".withCString { pwrite(fd, $0, 4, off_t(end)) }
        close(fd)
        var read: [UInt8] = []
        #expect(try reader.read(maxBytes: 4096, { read += $0 }) == .bytes(10))
        #expect(String(decoding: read, as: UTF8.self) == "line 0031\n")
        #expect(reader.lastReadWasShort)
        #expect(reader.offset == end + 10)
        // Past the read-ahead, reads go to the file again.
        try directory.append("app.log", "line 0032\n")
        #expect(try readAll(reader) == "line 0032\n")
        reader.close()
    }

    @Test func aReadAheadLargerThanAReadIsHandedOutOverSeveralReads() throws {
        let (directory, reader) = try readerAtTheEnd()
        let end = UInt64(firstPart.utf8.count)
        try directory.append("app.log", "line 0031\nline 0032\n")
        #expect(try reader.tailHash(before: end, readAhead: 4096) != nil)
        var first: [UInt8] = []
        #expect(try reader.read(maxBytes: 15, { first += $0 }) == .bytes(15))
        #expect(String(decoding: first, as: UTF8.self) == "line 0031\nline ")
        #expect(!reader.lastReadWasShort)
        #expect(try readAll(reader) == "0032\n")
        #expect(reader.offset == end + 20)
        reader.close()
    }

    @Test func aRewrittenFileFailsTheCheckAndIsReadAgain() throws {
        let (directory, reader) = try readerAtTheEnd()
        let end = UInt64(firstPart.utf8.count)
        let expected = try FileIdentity.tailHash(of: reader, before: end)
        // Truncated and rewritten past the old end (copytruncate, then a burst).
        let rewritten = (1...40).map { "new \(String(format: "%05d", $0))\n" }.joined()
        try directory.write("app.log", rewritten)
        #expect(try reader.tailHash(before: end, readAhead: 4096) != expected)
        // Truncated below the old end: no hash at all.
        try directory.write("app.log", "short\n")
        #expect(try reader.tailHash(before: end, readAhead: 4096) == nil)
        // After a seek, nothing held is handed out: the read goes to the file.
        try reader.seek(to: 0)
        #expect(try readAll(reader) == "short\n")
        reader.close()
    }

    @Test func theTailHashOfHeldBytesMatchesOneReadFromTheFile() throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", firstPart)
        let reader = try PlainFileReader(path: directory.file("app.log"))
        var read: [UInt8] = []
        _ = try reader.read(maxBytes: 4096) { read += $0 }
        for end in [UInt64(1), 100, 256, 299, 300] {
            #expect(reader.heldTailHash(before: end) == (try FileIdentity.tailHash(of: reader, before: end)))
        }
        #expect(reader.heldTailHash(before: 301) == nil)
        reader.releaseBuffer()
        #expect(reader.heldTailHash(before: 300) == nil)
        reader.close()
    }

    @Test func aReaderAtItsEndGivesItsBufferBackAndReadsOnCorrectly() throws {
        let (directory, reader) = try readerAtTheEnd()
        reader.releaseBuffer()
        // Reads after the release take a buffer (pooled or new) and hand out the new bytes.
        try directory.append("app.log", "line 0031\n")
        #expect(try readAll(reader) == "line 0031\n")
        reader.releaseBuffer()
        try directory.append("app.log", "line 0032\n")
        #expect(try readAll(reader) == "line 0032\n")
        reader.close()
    }

    @Test func theBufferPoolHandsOutAlignedBuffersAndKeepsAtMostItsCapacity() {
        let buffers = (0..<ReadBufferPool.capacity + 8).map { _ in
            ReadBufferPool.take(byteCount: ReadBufferPool.pooledBytes)
        }
        for buffer in buffers {
            #expect(buffer.count == ReadBufferPool.pooledBytes)
            #expect(Int(bitPattern: buffer.baseAddress) % PlainFileReader.copyAlignment == 0)
        }
        for buffer in buffers { ReadBufferPool.giveBack(buffer) }
        #expect(ReadBufferPool.count <= ReadBufferPool.capacity)
        // Other sizes are not pooled.
        let large = ReadBufferPool.take(byteCount: ReadBufferPool.pooledBytes * 2)
        #expect(large.count == ReadBufferPool.pooledBytes * 2)
        ReadBufferPool.giveBack(large)
        #expect(ReadBufferPool.count <= ReadBufferPool.capacity)
    }
}
