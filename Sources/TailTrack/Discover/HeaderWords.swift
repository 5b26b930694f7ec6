/// The severity words loggers write (`INFO`, `[error]`, `<warn>`, `W:`), any case: a header
/// field ``LineAnalyzer`` recognises by its text.
enum LevelWords {
    private static let words: [[UInt8]] = [
        "info", "warn", "warning", "error", "err", "debug", "trace", "fatal", "notice", "critical", "crit",
        "severe", "fine", "finer", "finest", "alert", "emerg", "emergency", "verbose", "panic", "dbug",
    ].map { Array($0.utf8) }

    /// Whether `token`, less `<>` around it or a `:` after it, is a level word.
    static func isLevel(_ token: UnsafeRawBufferPointer) -> Bool {
        var start = 0
        var end = token.count
        if end > 0, token[end - 1] == UInt8(ascii: ":") { end -= 1 }
        if end - start >= 2, token[start] == UInt8(ascii: "<"), token[end - 1] == UInt8(ascii: ">") {
            start += 1
            end -= 1
        }
        let length = end - start
        guard length >= 3, length <= 9 else { return false }
        outer: for word in words where word.count == length {
            for offset in 0..<length where token[start + offset] | 0x20 != word[offset] { continue outer }
            return true
        }
        return false
    }
}

/// Recognises the pieces of a timestamp in a header: `2015-10-18`, `18:01:47,978`,
/// `081109`, `Dec`, `Sun`, `2005`, `2015-10-18T18:01:47.978Z`, `1445144423`.
enum TimeShape {
    private static let names: [[UInt8]] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "mon", "tue", "wed",
        "thu", "fri", "sat", "sun",
    ].map { Array($0.utf8) }

    /// Whether `token` is a month or weekday name (three letters or the full name).
    static func isName(_ token: UnsafeRawBufferPointer) -> Bool {
        guard token.count >= 3, token.count <= 9 else { return false }
        let lower = (token[0] | 0x20, token[1] | 0x20, token[2] | 0x20)
        for name in names where name[0] == lower.0 && name[1] == lower.1 && name[2] == lower.2 {
            if token.count == 3 { return true }
            return token.allSatisfy { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
        }
        return false
    }

    /// Whether `token` is one piece of a header timestamp. `first`: the line's first token;
    /// `previous`: the previous header field when it was a timestamp piece.
    static func isTimePiece(_ token: UnsafeRawBufferPointer, first: Bool, previous: UnsafeRawBufferPointer?) -> Bool {
        if isName(token) { return true }
        var digits = 0
        var separators = 0
        var other = 0
        for byte in token {
            switch byte {
            case 0x30...0x39: digits += 1
            case UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: ","):
                separators += 1
            case UInt8(ascii: "T"), UInt8(ascii: "Z"), UInt8(ascii: "+"): other += 1
            default: return false
            }
        }
        guard digits >= 1 else { return false }
        if separators >= 2 { return digits >= 4 }
        if separators == 0, other == 0 {
            if digits == 6 || digits == 8 { return true }  // 081109, 20151018, 203615
            if first, digits == 10 || digits == 13 { return true }  // Unix seconds or milliseconds
            guard let previous else { return false }
            if digits <= 2, isName(previous) { return true }  // the day after a month name
            // The year after a time of day (`Sun Dec 04 04:47:44 2005`).
            if digits == 4, previous.contains(UInt8(ascii: ":")) { return true }
        }
        return false
    }

    /// `Sun Dec 04 04:47:44 2005`, `22/Nov/2026:10:00:00 +0100`, `2015-10-18 18:01:47`.
    static func isBracketedTime(_ inner: UnsafeRawBufferPointer) -> Bool {
        var digits = 0
        var colons = 0
        for byte in inner {
            if byte >= 0x30, byte <= 0x39 { digits += 1 } else if byte == UInt8(ascii: ":") { colons += 1 }
        }
        return digits >= 6 && colons >= 1 && inner.count <= 40
    }
}
