/// ULIDs (https://github.com/ulid/spec): 128 bits, a 48-bit millisecond time followed by 80
/// bits of entropy, written as 26 characters of Crockford's base32 so that they sort by time.
/// Customer.io accepts them as event ids and deduplicates on them.
public enum ULID {
    /// Crockford's base32 alphabet: digits and uppercase letters without I, L, O and U.
    static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// The largest time a ULID can hold: 2^48 - 1 milliseconds, in the year 10889.
    public static let maximumTimeMilliseconds: UInt64 = (1 << 48) - 1

    /// The 26-character ULID of a time (its low 48 bits) and 80 bits of entropy, given as
    /// the high 16 and the low 64 bits.
    public static func encode(timeMilliseconds: UInt64, entropyHigh: UInt16, entropyLow: UInt64) -> String {
        String(unsafeUninitializedCapacity: 26) { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            write(timeMilliseconds: timeMilliseconds, entropyHigh: entropyHigh, entropyLow: entropyLow, to: base)
            return 26
        }
    }

    /// Writes the 26 characters of ``encode(timeMilliseconds:entropyHigh:entropyLow:)`` to
    /// `target`, which has room for them.
    @inline(__always)
    static func write(
        timeMilliseconds: UInt64,
        entropyHigh: UInt16,
        entropyLow: UInt64,
        to target: UnsafeMutablePointer<UInt8>
    ) {
        let digits = alphabetBytes.utf8Start
        let time = timeMilliseconds & maximumTimeMilliseconds
        // The time: 10 characters of 5 bits, the first carrying only 3 (48 = 3 + 9 × 5).
        for position in 0..<10 {
            let shift = UInt64(45 - 5 * position)
            target[position] = digits[Int((time >> shift) & 31)]
        }
        // The entropy: 16 characters of 5 bits from the 80-bit value high:low. The first
        // three come from the high 16 bits; the fourth straddles the two halves.
        let high = UInt64(entropyHigh)
        target[10] = digits[Int((high >> 11) & 31)]
        target[11] = digits[Int((high >> 6) & 31)]
        target[12] = digits[Int((high >> 1) & 31)]
        target[13] = digits[Int(((high << 4) | (entropyLow >> 60)) & 31)]
        for position in 4..<16 {
            let shift = UInt64(75 - 5 * position)
            target[10 + position] = digits[Int((entropyLow >> shift) & 31)]
        }
    }

    /// ``alphabet`` without an array's lazy initialisation and bounds checks.
    private static let alphabetBytes: StaticString = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

    /// Whether `text` is a canonical ULID: 26 characters of the uppercase Crockford alphabet,
    /// the first at most `7` (a larger one would not fit 128 bits).
    public static func isValid(_ text: String) -> Bool {
        var count = 0
        for byte in text.utf8 {
            guard decodeDigit(byte) != nil else { return false }
            if count == 0, byte > UInt8(ascii: "7") { return false }
            count += 1
            if count > 26 { return false }
        }
        return count == 26
    }

    /// The time part of a canonical ULID in milliseconds since the Unix epoch, or `nil` when
    /// `text` is not one.
    public static func timeMilliseconds(of text: String) -> UInt64? {
        guard isValid(text) else { return nil }
        var time: UInt64 = 0
        for byte in text.utf8.prefix(10) {
            guard let digit = decodeDigit(byte) else { return nil }
            time = time << 5 | UInt64(digit)
        }
        return time
    }

    private static func decodeDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "Z"):
            guard let index = alphabet.firstIndex(of: byte) else { return nil }
            return UInt8(index)
        default: return nil
        }
    }
}
