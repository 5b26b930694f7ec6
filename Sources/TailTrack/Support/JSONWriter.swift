/// Writes JSON straight into a byte buffer: the encoder behind every operation, batch body,
/// dead letter and dry-run line.
///
/// No `JSONEncoder` or `JSONSerialization` per operation: those allocate a tree of boxed
/// values per call. Strings are escaped per RFC 8259 (quote, backslash, control characters);
/// non-ASCII is written as UTF-8, and invalid UTF-8 in raw byte input becomes U+FFFD.
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends a value.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .int(let number): writeInteger(number)
        case .double(let number): append(Self.format(number))
        case .string(let text): writeString(text)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(member.key)
                bytes.append(UInt8(ascii: ":"))
                write(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Appends a quoted, escaped string.
    public mutating func writeString(_ text: String) {
        var copy = text
        copy.withUTF8 { writeEscaped(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Appends raw bytes as a quoted, escaped string, replacing invalid UTF-8 with U+FFFD.
    public mutating func writeString(bytes raw: UnsafeRawBufferPointer) {
        if Self.isValidUTF8(raw) {
            writeEscaped(utf8: raw)
        } else {
            writeString(String(decoding: raw, as: UTF8.self))
        }
    }

    /// Appends an integer in decimal.
    public mutating func writeInteger(_ number: Int64) {
        if number == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = number.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, enough for 20 digits
        withUnsafeMutableBytes(of: &digits) { scratch in
            var position = scratch.count
            while magnitude > 0 {
                position -= 1
                scratch[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            if number < 0 {
                position -= 1
                scratch[position] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: scratch[position...])
        }
    }

    /// Appends ASCII text as it is (punctuation, keys known to need no escaping).
    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends already-encoded JSON.
    public mutating func append(raw: [UInt8]) {
        bytes.append(contentsOf: raw)
    }

    /// A double as JSON: integral values without a fraction (`9.0` → `9`), others in the
    /// shortest form that reads back the same; NaN and infinities (not JSON) as `null`.
    public static func format(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        // Below 2^63 an integral double converts to Int64 exactly; above, Swift's shortest
        // form is already exponential without a fraction (`1e+20`).
        if number == number.rounded(), abs(number) < 0x1p63 {
            return String(Int64(number))
        }
        return number.description
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func writeEscaped(utf8 raw: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<raw.count {
            let byte = raw[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index { bytes.append(contentsOf: raw[runStart..<index]) }
            runStart = index + 1
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            default:
                bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0xF)])
            }
        }
        if runStart < raw.count { bytes.append(contentsOf: raw[runStart...]) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Whether `raw` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
    public static func isValidUTF8(_ raw: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = raw.count
        while index < count {
            let lead = raw[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            let minimum: UInt32
            var scalar: UInt32
            switch lead {
            case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F); minimum = 0x80
            case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F); minimum = 0x800
            case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07); minimum = 0x10000
            default: return false
            }
            guard index + length <= count else { return false }
            for offset in 1..<length {
                let next = raw[index + offset]
                guard next & 0xC0 == 0x80 else { return false }
                scalar = (scalar << 6) | UInt32(next & 0x3F)
            }
            if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return false }
            index += length
        }
        return true
    }
}
