/// Parses one logfmt line (`level=info msg="user logged in" user_id=7`).
///
/// The rules, matching what Go's logfmt writers produce and what readers accept:
/// - pairs are separated by spaces or tabs (a trailing `\r` counts as a separator too);
/// - a key is a run of bytes other than space, tab, `=` and `"`;
/// - `key=value` takes the value up to the next separator, `key=` is the empty string,
///   `key="…"` is quoted: `\"`, `\\`, `\n`, `\r` and `\t` are unescaped, any other backslash
///   is kept as it is, and a missing closing quote ends the value at the end of the line;
/// - a bare `key` is `true`;
/// - every value is a string (the templates' `int`/`float` filters convert), keys keep their
///   order, and a repeated key is kept twice so that lookup finds the first;
/// - invalid UTF-8 becomes U+FFFD;
/// - a line without a single `key=value` pair is not logfmt (`nil`), so that plain text
///   such as `server started` does not parse as two bare keys.
public enum LogfmtParser {
    /// The pairs of `bytes` as an object of strings, in order; a bare key (`debug`) maps to
    /// `true`. `nil` when the line holds no `key=value` pair at all.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> JSONValue? {
        var members: [JSONMember] = []
        var sawPair = false
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if isSeparator(byte) {
                index += 1
                continue
            }
            let keyStart = index
            while index < count, !isSeparator(bytes[index]), bytes[index] != UInt8(ascii: "="),
                bytes[index] != UInt8(ascii: "\"")
            {
                index += 1
            }
            let keyEnd = index
            guard keyEnd > keyStart else {
                // A token starting with `=` or `"` has no key: skip it as garbage.
                index = skipToken(bytes, from: index)
                continue
            }
            let key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[keyStart..<keyEnd]), as: UTF8.self)
            guard index < count, bytes[index] == UInt8(ascii: "=") else {
                if index < count, bytes[index] == UInt8(ascii: "\"") {
                    // `key"…`: not a pair; skip the rest of the token.
                    index = skipToken(bytes, from: index)
                    continue
                }
                members.append(JSONMember(key, .bool(true)))
                continue
            }
            index += 1  // =
            sawPair = true
            if index < count, bytes[index] == UInt8(ascii: "\"") {
                let (value, next) = readQuoted(bytes, from: index + 1)
                members.append(JSONMember(key, .string(value)))
                index = next
            } else {
                let valueStart = index
                while index < count, !isSeparator(bytes[index]) { index += 1 }
                let value = String(
                    decoding: UnsafeRawBufferPointer(rebasing: bytes[valueStart..<index]), as: UTF8.self)
                members.append(JSONMember(key, .string(value)))
            }
        }
        return sawPair ? .object(members) : nil
    }

    @inline(__always)
    private static func isSeparator(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    /// The index after the token starting at `start`, a quoted part included.
    private static func skipToken(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while index < bytes.count, !isSeparator(bytes[index]) {
            if bytes[index] == UInt8(ascii: "\"") {
                index = readQuoted(bytes, from: index + 1).next
            } else {
                index += 1
            }
        }
        return index
    }

    /// The unescaped value of a quoted string whose opening quote is just before `start`,
    /// and the index after its closing quote.
    private static func readQuoted(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (value: String, next: Int) {
        var index = start
        let count = bytes.count
        // Fast path: no backslash before the closing quote.
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                return (value, index + 1)
            }
            if byte == UInt8(ascii: "\\") { break }
            index += 1
        }
        if index >= count {
            return (String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<count]), as: UTF8.self), count)
        }
        var unescaped: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                return (String(decoding: unescaped, as: UTF8.self), index + 1)
            }
            if byte == UInt8(ascii: "\\"), index + 1 < count {
                let escaped = bytes[index + 1]
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): unescaped.append(escaped)
                case UInt8(ascii: "n"): unescaped.append(0x0A)
                case UInt8(ascii: "r"): unescaped.append(0x0D)
                case UInt8(ascii: "t"): unescaped.append(0x09)
                default: unescaped.append(contentsOf: [byte, escaped])
                }
                index += 2
                continue
            }
            unescaped.append(byte)
            index += 1
        }
        return (String(decoding: unescaped, as: UTF8.self), count)
    }
}
