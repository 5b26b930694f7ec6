/// A 128-bit, seedless, platform-independent hash.
///
/// Swift's `Hasher` is seeded per process, so it cannot derive anything that must be the same
/// across restarts (operation ids, file fingerprints). This one always gives the same value
/// for the same bytes. It is not cryptographic; it only has to spread distinct inputs apart.
public struct StableHasher: Sendable {
    private var lane0: UInt64 = 0x243F_6A88_85A3_08D3
    private var lane1: UInt64 = 0x1319_8A2E_0370_7344
    private var length: UInt64 = 0

    public init() {}

    /// Feeds raw bytes.
    public mutating func combine(bytes: UnsafeRawBufferPointer) {
        // The lanes are mixed in locals and stored once: mixing `self`'s own fields made the
        // compiler store and reload them for every word (`bytes` might point into `self`),
        // which put a store-to-load round trip on the hash's critical path.
        var lanes = (lane0, lane1)
        var index = 0
        let count = bytes.count
        while index + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self).littleEndian
            Self.mix(word, into: &lanes)
            index += 8
        }
        if index < count {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while index < count {
                word |= UInt64(bytes[index]) << shift
                shift += 8
                index += 1
            }
            Self.mix(word ^ 0x8000_0000_0000_0000, into: &lanes)
        }
        (lane0, lane1) = lanes
        length &+= UInt64(count)
    }

    /// Feeds a byte array.
    public mutating func combine(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { combine(bytes: $0) }
    }

    /// Feeds a string's UTF-8 bytes, followed by its length so that ("ab","c") and ("a","bc")
    /// differ.
    public mutating func combine(_ text: String) {
        var copy = text
        copy.withUTF8 { combine(bytes: UnsafeRawBufferPointer($0)) }
        combine(UInt64(text.utf8.count))
    }

    /// Feeds an integer.
    public mutating func combine(_ value: UInt64) {
        mix(value)
        length &+= 8
    }

    /// The two 64-bit halves of the hash.
    public func finalize() -> (UInt64, UInt64) {
        var a = lane0 ^ length
        var b = lane1 ^ (length &* 0x9E37_79B9_7F4A_7C15)
        a = Self.avalanche(a &+ b)
        b = Self.avalanche(b ^ a)
        return (a, b)
    }

    /// A one-shot 64-bit hash of `bytes`.
    public static func hash64(bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = StableHasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize().0
    }

    @inline(__always)
    private mutating func mix(_ word: UInt64) {
        var lanes = (lane0, lane1)
        Self.mix(word, into: &lanes)
        (lane0, lane1) = lanes
    }

    @inline(__always)
    private static func mix(_ word: UInt64, into lanes: inout (UInt64, UInt64)) {
        var lane0 = (lanes.0 ^ avalanche(word &* 0x9E37_79B9_7F4A_7C15)) &* 0xFF51_AFD7_ED55_8CCD
        lane0 = (lane0 << 31) | (lane0 >> 33)
        var lane1 = (lanes.1 ^ avalanche(word &+ 0xC4CE_B9FE_1A85_EC53)) &* 0xC4CE_B9FE_1A85_EC53
        lane1 = (lane1 << 27) | (lane1 >> 37)
        lane1 &+= lane0
        lanes = (lane0, lane1)
    }

    /// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
    @inline(__always)
    static func avalanche(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x
    }
}
