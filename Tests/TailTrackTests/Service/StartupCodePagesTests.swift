import Foundation
import Testing

@testable import TailTrack

@Suite struct StartupCodePagesTests {
    /// Only code mapped from a file is picked: not data, not RELRO, not anonymous or JIT code.
    @Test func picksOnlyFileBackedPrivateCode() {
        let maps = """
            55bc46c68000-55bc47c17000 r-xp 00000000 fe:00 5392149                    /usr/bin/tailtrack
            55bc47c18000-55bc47c95000 r--p 00faf000 fe:00 5392149                    /usr/bin/tailtrack
            55bc47c95000-55bc47daa000 rw-p 0102c000 fe:00 5392149                    /usr/bin/tailtrack
            7f21a4000000-7f21a45ba000 rw-p 00000000 00:00 0
            7f21d3000000-7f21d35d3000 r-xp 00000000 fe:00 2268                       /opt/swift/lib/libswiftCore.so
            7f21d4000000-7f21d4010000 r-xp 00000000 00:00 0
            7f21d5000000-7f21d5010000 r-xs 00000000 00:01 77                         /memfd:sljit (deleted)
            7f21d6000000-7f21d6010000 r-xp 00000000 fe:00 99                         /tmp/old.so (deleted)
            7f21d7000000-7f21d7001000 r-xp 00000000 00:00 0                          [vdso]
            7f21d8000000-7f21d8010000 rwxp 00000000 fe:00 98                         /tmp/selfmodifying.so
            """
        #expect(
            StartupCodePages.codeMappings(in: maps) == [
                .init(start: 0x55bc_46c6_8000, end: 0x55bc_47c1_7000, path: "/usr/bin/tailtrack"),
                .init(start: 0x7f21_d300_0000, end: 0x7f21_d35d_3000, path: "/opt/swift/lib/libswiftCore.so"),
            ])
    }

    /// In this very process: the resident code shrinks, and the code released keeps running.
    @Test func releasingShrinksTheResidentCodeAndEverythingKeepsWorking() throws {
        let hashBefore = Array("abc".utf8).withUnsafeBytes { StableHasher.hash64(bytes: $0) }
        let before = try residentFileKilobytes()
        let released = StartupCodePages.release()
        let after = try residentFileKilobytes()
        #expect(released > 0)
        #expect(after < before, "RssFile \(before) kB before, \(after) kB after")
        // Code from the stdlib, Foundation and our own module, all run again after the release.
        let text = String(decoding: try JSONEncoder().encode(["a": 1]), as: UTF8.self)
        #expect(text == #"{"a":1}"#)
        #expect(Array("abc".utf8).withUnsafeBytes { StableHasher.hash64(bytes: $0) } == hashBefore)
    }

    private func residentFileKilobytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssFile:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }
}

/// The agent's one malloc arena.
@Suite struct MallocArenasTests {
    @Test func glibcAcceptsTheLimit() {
        #expect(MallocArenas.limit(to: 1))
        // A limit of 0 is glibc's "no limit", which it also accepts: the test process goes
        // back to its default.
        #expect(MallocArenas.limit(to: 0))
    }
}
