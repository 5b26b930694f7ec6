/// The kind of value a variable token of a log line holds: what `discover` prints in a
/// template's slot (`<number>`, `<ip>` …) and which regex the starter rule captures it with.
///
/// Typing the variable parts is what lets grouping work without a header format: a token
/// whose shape says "value" (digits, an address, a quoted string) never splits a template.
public enum SlotType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case number = 1
    case hex
    case uuid
    case ip
    case email
    case url
    case path
    case timestamp
    case quoted
    /// A word with digits in it that is none of the above (`blk_-1608999`, `task_42_m`).
    case id
    /// Positions where lines of one template hold different words.
    case any

    public var description: String {
        switch self {
        case .number: return "number"
        case .hex: return "hex"
        case .uuid: return "uuid"
        case .ip: return "ip"
        case .email: return "email"
        case .url: return "url"
        case .path: return "path"
        case .timestamp: return "timestamp"
        case .quoted: return "quoted"
        case .id: return "id"
        case .any: return "any"
        }
    }

    /// The PCRE2 pattern one value of this type takes, inside one whitespace-free token
    /// (a quoted string may hold spaces).
    var regex: String {
        // Each pattern takes at least every token the classifier gives this type.
        switch self {
        case .number: return #"-?[\d.][-\d.A-Za-z]*"#
        case .hex: return #"(?:0[xX])?[0-9A-Fa-f]+"#
        case .uuid: return #"[-0-9A-Fa-f]{36}"#
        case .email: return #"\S+@\S+"#
        case .quoted: return #""(?:[^"\\]|\\.)*""#
        case .ip, .url, .path, .timestamp, .id, .any: return #"\S+"#
        }
    }
}

/// Classifies one token's bytes (already stripped of surrounding punctuation) as a slot type,
/// or `nil` when it reads as a constant word.
enum TokenClassifier {
    /// The type of `token`, or `nil` for a constant word.
    static func classify(_ token: UnsafeRawBufferPointer) -> SlotType? {
        let count = token.count
        guard count > 0 else { return nil }
        var digits = 0
        var letters = 0
        var hexLetters = 0
        var dots = 0
        var colons = 0
        var dashes = 0
        var slashes = 0
        var at = -1
        var other = 0
        for index in 0..<count {
            let byte = token[index]
            switch byte {
            case 0x30...0x39: digits += 1
            case 0x61...0x66, 0x41...0x46:
                letters += 1
                hexLetters += 1
            case 0x67...0x7A, 0x47...0x5A: letters += 1
            case UInt8(ascii: "."): dots += 1
            case UInt8(ascii: ":"): colons += 1
            case UInt8(ascii: "-"): dashes += 1
            case UInt8(ascii: "/"): slashes += 1
            case UInt8(ascii: "@"): if at < 0 { at = index } else { other += 1 }
            default: other += 1
            }
        }
        let first = token[0]
        if at > 0, at < count - 3, dots > 0, letters > 0, slashes == 0 { return .email }
        if colons > 0, slashes >= 2, letters > 0, contains(token, "://") { return .url }
        if digits == 0 {
            if first == UInt8(ascii: "/"), count > 1, letters > 0 { return .path }
            return nil
        }
        // Everything below has a digit in it.
        if letters == 0, other == 0, slashes == 0, at < 0 {
            if dots == 3, colons <= 1, dashes == 0 { return .ip }
            if colons >= 1 || (dashes >= 2 && dots <= 1) { return .timestamp }
            if dashes <= 1, dots <= 1 || colons == 0 { return .number }
        }
        if count == 36, dashes == 4, digits + hexLetters == 32 { return .uuid }
        if first == UInt8(ascii: "/") || (slashes >= 2 && colons == 0) {
            return dots == 3 && letters == 0 ? .ip : .path
        }
        if digits + hexLetters == count, count >= 6 || (count > 2 && token[1] == UInt8(ascii: "x")) { return .hex }
        if count > 2, first == UInt8(ascii: "0"), token[1] | 0x20 == UInt8(ascii: "x"),
            digits + hexLetters == count - 1
        {
            return .hex
        }
        if letters > 0, letters <= 3, dashes == 0, slashes == 0, colons == 0, other == 0, dots <= 1,
            (0x30...0x39).contains(first) || first == UInt8(ascii: "-")
        {
            return .number  // 100ms, 64MB, 2.5s, 1e6
        }
        return .id
    }

    private static func contains(_ token: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        let length = needle.utf8CodeUnitCount
        guard token.count >= length else { return false }
        let bytes = needle.utf8Start
        outer: for start in 0...(token.count - length) {
            for offset in 0..<length where token[start + offset] != bytes[offset] { continue outer }
            return true
        }
        return false
    }
}
