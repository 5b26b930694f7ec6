/// The severity words loggers write (`INFO`, `[error]`, `<warn>`, `W:`), any case: a header
/// field ``LineAnalyzer`` recognises by its text.
enum LevelWords {
    /// The words, lower case, packed little-endian into a `UInt64` each: one comparison per
    /// word instead of a byte loop (this runs on the first tokens of every line).
    private static let packed: [UInt64] = [
        "info", "warn", "warning", "error", "err", "debug", "trace", "fatal", "notice", "critical", "crit",
        "severe", "fine", "finer", "finest", "alert", "emerg", "verbose", "panic", "dbug",
    ].map { word in word.utf8.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }

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
        guard length >= 3, length <= 8 else { return false }
        var value: UInt64 = 0
        for index in stride(from: end - 1, through: start, by: -1) {
            let byte = token[index]
            guard (byte | 0x20) >= 0x61, (byte | 0x20) <= 0x7A else { return false }
            value = value << 8 | UInt64(byte | 0x20)
        }
        return packed.contains(value)
    }
}

/// Recognises the pieces of a timestamp in a header: `2015-10-18`, `18:01:47,978`,
/// `081109`, `Dec`, `Sun`, `2005`, `2015-10-18T18:01:47.978Z`, `1445144423`.
enum TimeShape {
    /// Month and weekday names' first three letters, lower case, packed into a `UInt32` each.
    private static let names: [UInt32] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "mon", "tue", "wed",
        "thu", "fri", "sat", "sun",
    ].map { name in name.utf8.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }

    /// Whether `token` is a month or weekday name (three letters or the full name).
    static func isName(_ token: UnsafeRawBufferPointer) -> Bool {
        guard token.count >= 3, token.count <= 9 else { return false }
        guard token.allSatisfy({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }) else { return false }
        let value = UInt32(token[0] | 0x20) << 16 | UInt32(token[1] | 0x20) << 8 | UInt32(token[2] | 0x20)
        return names.contains(value)
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
        // Three dots and nothing else: an IPv4 address (an access log's client), not a date.
        if separators == 3, other == 0,
            token.allSatisfy({
                $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ",")
            })
        {
            return false
        }
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
