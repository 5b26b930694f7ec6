import Foundation
import Testing

@testable import TailTrack

@Suite struct TailedFileTests {
    /// A .gz followed from its start while its first line could not be read yet (logrotate
    /// still compressing it) gets the fingerprint a later look at the finished file gives:
    /// its lines keep the ids they get when the file is read again after a restart.
    @Test func aGzipFoundBeforeItsFirstLineTakesItsFingerprintFromWhatItReads() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a.log", numbered(1, 200))
        try directory.run("/bin/gzip", ["a.log"])
        let path = directory.file("a.log.gz")
        let reader = try GzipFileReader(path: path)
        let file = TailedFile(
            key: FileKey(rawValue: 1), source: "app", family: directory.file("a.log"), age: .live, path: path,
            status: try reader.status(), fingerprint: nil, reader: reader,
            framer: LineFramer(maxLineBytes: 4096), role: .rotated, tailHash: nil, now: .now)
        // 7-byte blocks: the first line arrives in pieces.
        let chunk = try #require(try file.read(readBytes: 7, chunkBytes: 1 << 20, chunkLines: 1 << 20, now: .now))
        let expected = try #require(FileIdentity.fingerprint(ofPath: path))
        #expect(chunk.fingerprint == expected)
        #expect(file.fingerprint == expected)
        #expect(chunk.lines.count == 200)
    }
}
