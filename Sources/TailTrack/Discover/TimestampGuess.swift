/// Guesses the `timestamp: format:` of a timestamp text seen in a log (`2015-10-18
/// 18:01:47,978` → `%Y-%m-%d %H:%M:%S,%f`), and keeps a guess only when the rule engine's own
/// parser reads the text with it.
enum TimestampGuess {
    /// The format for `text`, or `nil` when no guess parses it.
    static func format(for text: String) -> String? {
        let bytes = Array(text.utf8)
        if bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            if bytes.count == 10 { return parses(text, "unix") ? "unix" : nil }
            if bytes.count == 13 { return parses(text, "unix_ms") ? "unix_ms" : nil }
        }
        if parses(text, "rfc3339") { return "rfc3339" }
        guard let pattern = strftime(bytes), parses(text, pattern) else { return nil }
        return pattern
    }

    private static func parses(_ text: String, _ format: String) -> Bool {
        guard let parsed = try? TimestampFormat(parsing: format) else { return false }
        var copy = text
        return copy.withUTF8 { parsed.parse(text: UnsafeRawBufferPointer($0)) } != nil
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// A strftime pattern read off the runs of digits and letters of `bytes`.
    private static func strftime(_ bytes: [UInt8]) -> String? {
        var out = ""
        var index = 0
        var haveDate = false
        var haveTime = false
        var dateParts = 0
        var afterSeconds = false
        var dayFirst = false
        while index < bytes.count {
            let byte = bytes[index]
            var end = index
            if byte >= 0x30, byte <= 0x39 {
                while end < bytes.count, bytes[end] >= 0x30, bytes[end] <= 0x39 { end += 1 }
                let length = end - index
                let next = end < bytes.count ? bytes[end] : 0
                if afterSeconds {
                    out += "%f"
                    afterSeconds = false
                } else if next == UInt8(ascii: ":"), !haveTime, length <= 2 {
                    // HH:MM[:SS]
                    var colons = 0
                    var scan = end
                    while scan < bytes.count,
                        bytes[scan] == UInt8(ascii: ":") || (bytes[scan] >= 0x30 && bytes[scan] <= 0x39)
                    {
                        if bytes[scan] == UInt8(ascii: ":") { colons += 1 }
                        scan += 1
                    }
                    out += colons >= 2 ? "%H:%M:%S" : "%H:%M"
                    haveTime = true
                    end = scan
                    if end < bytes.count, bytes[end] == UInt8(ascii: ".") || bytes[end] == UInt8(ascii: ",") {
                        out += String(UnicodeScalar(bytes[end]))
                        end += 1
                        afterSeconds = true
                    }
                } else if !haveDate, length == 6 {
                    out += "%y%m%d"
                    haveDate = true
                } else if haveDate, !haveTime, length == 6 {
                    out += "%H%M%S"
                    haveTime = true
                } else if !haveDate, length == 8 {
                    out += "%Y%m%d"
                    haveDate = true
                } else if length == 4 {
                    out += "%Y"
                    dateParts += 1
                    if dateParts >= 3 { haveDate = true }
                } else if length <= 2, !haveDate {
                    if dateParts == 0, next == UInt8(ascii: "/") || next == UInt8(ascii: ".") { dayFirst = true }
                    out +=
                        out.hasSuffix("%b ") || out.hasSuffix("%b")
                        ? (length == 1 ? "%e" : "%d")
                        : (dateParts == 0 && dayFirst) ? "%d" : (dateParts == 1 && !dayFirst ? "%m" : "%d")
                    dateParts += 1
                    if dateParts >= 3 { haveDate = true }
                } else {
                    return nil
                }
                index = end
                continue
            }
            let lower = byte | 0x20
            if lower >= 0x61, lower <= 0x7A {
                while end < bytes.count, (bytes[end] | 0x20) >= 0x61, (bytes[end] | 0x20) <= 0x7A { end += 1 }
                let word = String(decoding: bytes[index..<end], as: UTF8.self).lowercased()
                if months.contains(String(word.prefix(3))) {
                    out += word.count == 3 ? "%b" : "%B"
                    dateParts += 1
                    if dateParts >= 3 { haveDate = true }
                } else if ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].contains(String(word.prefix(3))) {
                    out += word.count == 3 ? "%a" : "%A"
                } else if word == "t" {
                    out += "T"
                } else if word == "z" || word == "utc" || word == "gmt" {
                    out += word == "z" ? "%z" : "%Z"
                } else {
                    return nil
                }
                index = end
                continue
            }
            if (byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")), haveTime {
                out += "%z"
                index = bytes.count
                continue
            }
            if byte == UInt8(ascii: "%") { out += "%%" } else { out += String(UnicodeScalar(byte)) }
            index += 1
        }
        return out
    }
}
