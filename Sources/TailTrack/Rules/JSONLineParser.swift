/// Parses one log line that holds a JSON object.
///
/// Hand-written over raw bytes because it runs once per line: no `JSONSerialization`, no
/// `String` per character. Strict RFC 8259 apart from what log lines need:
/// - the line must be exactly one object, with JSON whitespace around it allowed;
/// - numbers that are integral (no fraction, no exponent) and fit `Int64` become `.int`,
///   all others `.double` (`1e3` is `.double(1000)`; beyond `Double`'s range, ±infinity,
///   which ``JSONWriter`` writes as `null`);
/// - strings are unescaped, `\uXXXX` and surrogate pairs included; a lone surrogate and any
///   invalid UTF-8 become U+FFFD; raw control characters inside strings are rejected;
/// - duplicate keys are all kept, in order, so ``JSONValue/subscript(_:)`` finds the first;
/// - nesting deeper than ``maximumDepth`` arrays and objects makes the line unparseable,
///   which keeps a hostile line from exhausting the stack.
public enum JSONLineParser {
    /// How deeply arrays and objects may nest (the line's own object is depth 1).
    public static let maximumDepth = 64

    /// The object in `bytes`, or `nil` when the line is not exactly one JSON object
    /// (surrounding whitespace allowed). Numbers that are integral and fit `Int64` become
    /// `.int`, others `.double`; strings are unescaped (`\uXXXX` and surrogate pairs included);
    /// invalid UTF-8 inside strings becomes U+FFFD.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> JSONValue? {
        var reader = JSONByteReader(bytes: bytes)
        reader.skipWhitespace()
        guard reader.peek() == UInt8(ascii: "{") else { return nil }
        guard let value = reader.readValue(depth: 0) else { return nil }
        reader.skipWhitespace()
        guard reader.isAtEnd else { return nil }
        return value
    }
}

/// The cursor behind ``JSONLineParser``: one position in the line and a recursive-descent
/// reader per JSON production. Every `read…` returns `nil` on malformed input.
private struct JSONByteReader {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index >= bytes.count }

    @inline(__always)
    func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func readValue(depth: Int) -> JSONValue? {
        guard let byte = peek() else { return nil }
        switch byte {
        case UInt8(ascii: "{"): return readObject(depth: depth + 1)
        case UInt8(ascii: "["): return readArray(depth: depth + 1)
        case UInt8(ascii: "\""): return readString().map(JSONValue.string)
        case UInt8(ascii: "t"): return readLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return readLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return readLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return readNumber()
        default: return nil
        }
    }

    private mutating func readObject(depth: Int) -> JSONValue? {
        guard depth <= JSONLineParser.maximumDepth else { return nil }
        index += 1  // {
        var members: [JSONMember] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\""), let key = readString() else { return nil }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace()
            guard let value = readValue(depth: depth) else { return nil }
            members.append(JSONMember(key, value))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(members)
            default: return nil
            }
        }
    }

    private mutating func readArray(depth: Int) -> JSONValue? {
        guard depth <= JSONLineParser.maximumDepth else { return nil }
        index += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            guard let item = readValue(depth: depth) else { return nil }
            items.append(item)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(items)
            default: return nil
            }
        }
    }

    private mutating func readLiteral(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return nil }
        let start = word.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] {
            return nil
        }
        index += count
        return value
    }

    /// A number per the JSON grammar. Integral spellings that fit `Int64` are accumulated
    /// directly; anything else goes through the standard library's correctly rounded parser.
    private mutating func readNumber() -> JSONValue? {
        let start = index
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        let integerStart = index
        guard let first = peek(), Self.isDigit(first) else { return nil }
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            while let byte = peek(), Self.isDigit(byte) { index += 1 }
        }
        let integerEnd = index
        var isIntegral = true
        if peek() == UInt8(ascii: ".") {
            isIntegral = false
            index += 1
            guard let byte = peek(), Self.isDigit(byte) else { return nil }
            while let byte = peek(), Self.isDigit(byte) { index += 1 }
        }
        if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            isIntegral = false
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard let byte = peek(), Self.isDigit(byte) else { return nil }
            while let byte = peek(), Self.isDigit(byte) { index += 1 }
        }
        if isIntegral, let integer = Self.integer(bytes, integerStart..<integerEnd, negative: negative) {
            return .int(integer)
        }
        // Short spellings (most numbers) fit a small string, which does not allocate.
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let number = Double(text) else { return nil }
        return .double(number)
    }

    /// The decimal digits in `range` as an `Int64`, or `nil` when they overflow it.
    private static func integer(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, negative: Bool) -> Int64? {
        // Accumulate negatively: Int64.min has no positive counterpart.
        var value: Int64 = 0
        for position in range {
            let digit = Int64(bytes[position] &- UInt8(ascii: "0"))
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(digit)
            if overflow1 || overflow2 { return nil }
            value = next
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    /// A string starting at the opening quote. Strings without escapes are decoded straight
    /// from the line; with escapes, the unescaped bytes are collected first. Decoding as
    /// UTF-8 replaces every ill-formed sequence with U+FFFD.
    mutating func readString() -> String? {
        index += 1  // opening quote
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { return readEscapedString(from: start) }
            if byte < 0x20 { return nil }
            index += 1
        }
        return nil
    }

    private mutating func readEscapedString(from start: Int) -> String? {
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(index - start + 16)
        unescaped.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: unescaped, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard let escaped = peek() else { return nil }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped.append(escaped)
                case UInt8(ascii: "n"): unescaped.append(0x0A)
                case UInt8(ascii: "r"): unescaped.append(0x0D)
                case UInt8(ascii: "t"): unescaped.append(0x09)
                case UInt8(ascii: "b"): unescaped.append(0x08)
                case UInt8(ascii: "f"): unescaped.append(0x0C)
                case UInt8(ascii: "u"):
                    guard let scalar = readUnicodeEscape() else { return nil }
                    Self.appendUTF8(scalar, to: &unescaped)
                default: return nil
                }
            case 0..<0x20:
                return nil
            default:
                unescaped.append(byte)
                index += 1
            }
        }
        return nil
    }

    /// The scalar of a `\uXXXX` escape whose `\u` was just read, joining a surrogate pair
    /// when a second escape follows; a lone surrogate is U+FFFD.
    private mutating func readUnicodeEscape() -> UInt32? {
        guard let unit = readHex4() else { return nil }
        switch unit {
        case 0xD800...0xDBFF:
            let save = index
            if index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                index += 2
                if let low = readHex4(), (0xDC00...0xDFFF).contains(low) {
                    return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                }
                // Not a low surrogate: leave that escape to be read on its own.
                index = save
            }
            return 0xFFFD
        case 0xDC00...0xDFFF:
            return 0xFFFD
        default:
            return unit
        }
    }

    private mutating func readHex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private static func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            buffer.append(UInt8(scalar))
        case 0x80..<0x800:
            buffer.append(UInt8(0xC0 | scalar >> 6))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            buffer.append(UInt8(0xE0 | scalar >> 12))
            buffer.append(UInt8(0x80 | (scalar >> 6) & 0x3F))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        default:
            buffer.append(UInt8(0xF0 | scalar >> 18))
            buffer.append(UInt8(0x80 | (scalar >> 12) & 0x3F))
            buffer.append(UInt8(0x80 | (scalar >> 6) & 0x3F))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
