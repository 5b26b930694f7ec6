/// Byte-level versions of what the template filters (`trim`, `int`, `float`, `bool`) do to
/// ASCII text, so that ``OperationEncoder`` applies them to a line's bytes in place, without
/// making a `String`; each gives up (returns `nil` or `false`) where it could differ from the
/// filter, and the filter itself is used instead.
enum ByteText {
    /// Whether every byte is below 0x80.
    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        var bits: UInt64 = 0
        while index + 8 <= count {
            bits |= bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            bits |= UInt64(bytes[index])
            index += 1
        }
        return bits & 0x8080_8080_8080_8080 == 0
    }

    /// Without leading and trailing spaces, tabs, CR and LF (`trimmingSpaces` for ASCII).
    @inline(__always)
    static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    @inline(__always)
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    /// An optional sign and 1 to 18 digits: what `Int64(text)` reads without overflowing.
    static func plainInteger(_ text: UnsafeRawBufferPointer) -> Int64? {
        var index = 0
        var negative = false
        if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        let digits = text.count - index
        guard digits >= 1, digits <= 18 else { return nil }
        var value: Int64 = 0
        while index < text.count {
            let digit = text[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
            index += 1
        }
        return negative ? -value : value
    }

    /// Writes a plain decimal (`12.50`, `-3`, `007.25`) as ``JSONWriter/format(_:)`` writes
    /// `Double(text)`, or returns `false` without writing when that is not certain here.
    ///
    /// With at most 15 significant digits every decimal round-trips through `Double`, so the
    /// shortest form Swift prints is the digits themselves; from 0.001 up to 10^15 it prints
    /// them without an exponent, and integral values as integers.
    static func appendPlainDecimal(_ text: UnsafeRawBufferPointer, into output: inout OperationBuffer) -> Bool {
        var index = 0
        var negative = false
        if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        let integerStart = index
        while index < text.count, text[index] &- UInt8(ascii: "0") < 10 { index += 1 }
        let integerEnd = index
        var fractionStart = index
        var fractionEnd = index
        if index < text.count, text[index] == UInt8(ascii: ".") {
            index += 1
            fractionStart = index
            while index < text.count, text[index] &- UInt8(ascii: "0") < 10 { index += 1 }
            fractionEnd = index
            guard fractionEnd > fractionStart else { return false }
        }
        guard index == text.count, integerEnd > integerStart else { return false }
        // Significant digits: no leading zeros in the integer, no trailing zeros in the fraction.
        var significantStart = integerStart
        while significantStart < integerEnd, text[significantStart] == UInt8(ascii: "0") { significantStart += 1 }
        while fractionEnd > fractionStart, text[fractionEnd - 1] == UInt8(ascii: "0") { fractionEnd -= 1 }
        let integerDigits = integerEnd - significantStart
        guard integerDigits <= 15 else { return false }
        if integerDigits == 0 {
            // 0.xyz: at most two zeros after the point, at most 15 digits after them.
            var first = fractionStart
            while first < fractionEnd, text[first] == UInt8(ascii: "0") { first += 1 }
            if first == fractionEnd {
                output.append(UInt8(ascii: "0"))  // zero, whatever its sign
                return true
            }
            guard first - fractionStart <= 2, fractionEnd - first <= 15 else { return false }
        } else {
            guard integerDigits + (fractionEnd - fractionStart) <= 15 else { return false }
        }
        if negative { output.append(UInt8(ascii: "-")) }
        if integerDigits == 0 {
            output.append(UInt8(ascii: "0"))
        } else {
            output.append(UnsafeRawBufferPointer(rebasing: text[significantStart..<integerEnd]))
        }
        if fractionEnd > fractionStart {
            output.append(UInt8(ascii: "."))
            output.append(UnsafeRawBufferPointer(rebasing: text[fractionStart..<fractionEnd]))
        }
        return true
    }

    /// The `bool` filter's reading of trimmed ASCII text; `nil` when it refuses the text.
    static func boolean(_ text: UnsafeRawBufferPointer) -> Bool? {
        guard text.count <= 5 else { return nil }
        var word: UInt64 = 0
        for (index, byte) in text.enumerated() {
            guard byte != 0 else { return nil }
            let lower = byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
            word |= UInt64(lower) << UInt64(8 * index)
        }
        if trueWords.contains(word) { return true }
        if falseWords.contains(word) { return false }
        return nil
    }

    /// The words `bool` reads as true and as false, packed by ``word(_:)``.
    private static let trueWords = ["true", "yes", "y", "on", "1", "t"].map(word)
    private static let falseWords = ["false", "no", "n", "off", "0", "f", ""].map(word)

    /// Up to 8 ASCII bytes packed little-endian into an integer.
    private static func word(_ text: String) -> UInt64 {
        var word: UInt64 = 0
        for (index, byte) in text.utf8.enumerated() {
            word |= UInt64(byte) << UInt64(8 * index)
        }
        return word
    }
}
