import Foundation
import Testing

@testable import TailTrack

@Suite struct GzipFileReaderTests {
    private func readAll(_ reader: any LogFileReader) throws -> (text: String, outcome: ReadOutcome) {
        var bytes: [UInt8] = []
        while true {
            let outcome = try reader.read(maxBytes: 7) { bytes += $0 }
            if case .bytes = outcome { continue }
            return (String(decoding: bytes, as: UTF8.self), outcome)
        }
    }

    @Test func readsASingleMember() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a.log", numbered(1, 100))
        try directory.run("/bin/gzip", ["a.log"])
        let reader = try GzipFileReader(path: directory.file("a.log.gz"))
        let result = try readAll(reader)
        #expect(result.text == numbered(1, 100))
        #expect(result.outcome == .endOfData)
        #expect(reader.offset == UInt64(numbered(1, 100).utf8.count))
    }

    @Test func readsConcatenatedMembers() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a", "first\n")
        try directory.write("b", "second\n")
        try directory.run("/bin/gzip", ["a", "b"])
        let joined =
            try Data(contentsOf: URL(fileURLWithPath: directory.file("a.gz")))
            + Data(contentsOf: URL(fileURLWithPath: directory.file("b.gz")))
        try joined.write(to: URL(fileURLWithPath: directory.file("both.gz")))
        let result = try readAll(try GzipFileReader(path: directory.file("both.gz")))
        #expect(result.text == "first\nsecond\n")
        #expect(result.outcome == .endOfData)
    }

    @Test func reportsTruncatedAndContinuesWhenTheRestArrives() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a.log", numbered(1, 2000))
        try directory.run("/bin/gzip", ["a.log"])
        let whole = try Data(contentsOf: URL(fileURLWithPath: directory.file("a.log.gz")))
        let half = whole.prefix(whole.count / 2)
        try half.write(to: URL(fileURLWithPath: directory.file("part.gz")))
        let reader = try GzipFileReader(path: directory.file("part.gz"))
        let first = try readAll(reader)
        #expect(first.outcome == .truncated)
        #expect(numbered(1, 2000).hasPrefix(first.text))
        // The writer finishes the file: the same reader continues to the end.
        try whole.write(to: URL(fileURLWithPath: directory.file("part.gz")))
        let rest = try readAll(reader)
        #expect(first.text + rest.text == numbered(1, 2000))
        #expect(rest.outcome == .endOfData)
    }

    @Test func seeksToAnUncompressedOffset() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a.log", numbered(1, 1000))
        try directory.run("/bin/gzip", ["a.log"])
        let reader = try GzipFileReader(path: directory.file("a.log.gz"))
        let skip = UInt64(numbered(1, 500).utf8.count)
        try reader.seek(to: skip)
        #expect(reader.offset == skip)
        #expect(try readAll(reader).text == numbered(501, 500))
        try reader.seek(to: 0)
        #expect(try readAll(reader).text == numbered(1, 1000))
    }

    @Test func seekHashingTailGivesThePlainFilesTailHash() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a.log", numbered(1, 5000))
        try directory.run("/bin/gzip", ["-k", "a.log"])
        let plain = try PlainFileReader(path: directory.file("a.log"))
        defer { plain.close() }
        let reader = try GzipFileReader(path: directory.file("a.log.gz"), bufferBytes: 4096)
        defer { reader.close() }
        // Inside the first block, across block boundaries, and at the very end.
        let total = UInt64(numbered(1, 5000).utf8.count)
        let offsets: [UInt64] = [100, 4000, 4096 + 10, UInt64(numbered(1, 2500).utf8.count), total]
        for offset in offsets {
            let expected = try FileIdentity.tailHash(of: plain, before: offset)
            #expect(expected != nil)
            #expect(try reader.seekHashingTail(to: offset) == expected, "offset \(offset)")
            #expect(reader.offset == offset)
        }
        #expect(try reader.seekHashingTail(to: total + 1) == nil)
        #expect(try reader.seekHashingTail(to: 0) == nil)
    }

    @Test func fingerprintOfGzipMatchesThePlainFile() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a.log", numbered(1, 10))
        let plain = FileIdentity.fingerprint(ofPath: directory.file("a.log"))
        try directory.run("/bin/gzip", ["-k", "a.log"])
        #expect(plain != nil)
        #expect(FileIdentity.fingerprint(ofPath: directory.file("a.log.gz")) == plain)
        #expect(FileIdentity.isGzip(path: directory.file("a.log.gz")))
        #expect(!FileIdentity.isGzip(path: directory.file("a.log")))
    }

    @Test func plainReaderReadsAtOffsets() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a.log", "hello\nworld\n")
        let reader = try PlainFileReader(path: directory.file("a.log"), offset: 6)
        #expect(try readAll(reader).text == "world\n")
        #expect(try reader.status().size == 12)
        #expect(throws: FileOperationError.self) { try PlainFileReader(path: directory.file("missing")) }
        let error = FileOperationError(path: "/x/y.log", operation: "open", errno: ENOENT)
        #expect(error.description == "could not open /x/y.log: No such file or directory (errno 2)")
    }
}
