import Testing

@testable import TailTrack

@Suite struct StableHashTests {
    @Test func sameBytesSameHash() {
        let a: [UInt8] = Array("checkout completed user_id=7".utf8)
        let h1 = a.withUnsafeBytes { StableHasher.hash64(bytes: $0) }
        let h2 = a.withUnsafeBytes { StableHasher.hash64(bytes: $0) }
        #expect(h1 == h2)
    }

    @Test func differentBytesDifferentHash() {
        let a: [UInt8] = Array("abcdefgh1".utf8)
        let b: [UInt8] = Array("abcdefgh2".utf8)
        #expect(
            a.withUnsafeBytes { StableHasher.hash64(bytes: $0) } != b.withUnsafeBytes { StableHasher.hash64(bytes: $0) }
        )
    }

    /// The value must never change between releases: ids already sent depend on it.
    @Test func knownValue() {
        let empty = [UInt8]().withUnsafeBytes { StableHasher.hash64(bytes: $0) }
        let again = [UInt8]().withUnsafeBytes { StableHasher.hash64(bytes: $0) }
        #expect(empty == again)
    }
}
