/// Durations as written in the config: `200ms`, `1s`, `1.5s`, `5m`, `1h`, `2d`, `250us`, `10ns`;
/// a bare number is seconds.
enum DurationParser {
    /// What the error message suggests.
    static let expectedForm = "a number with ns, us, ms, s, m, h or d, such as 1.5s or 200ms"

    private static let nanosecondsPerUnit: [String: Double] = [
        "ns": 1,
        "us": 1e3,
        "µs": 1e3,
        "ms": 1e6,
        "s": 1e9,
        "m": 60e9,
        "h": 3_600e9,
        "d": 86_400e9,
    ]

    /// The duration `text` denotes, or `nil` when it is not one (negative values included).
    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingSpaces()
        let (number, unit) = trimmed.splitNumberAndUnit()
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let scale: Double
        if unit.isEmpty {
            scale = 1e9
        } else if let unitScale = nanosecondsPerUnit[String(unit)] {
            scale = unitScale
        } else {
            return nil
        }
        let nanoseconds = (value * scale).rounded()
        guard nanoseconds < Double(Int64.max) else { return nil }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// A bare number of seconds (`1`, `0.5`).
    static func seconds(_ value: Double) -> Duration? {
        guard value.isFinite, value >= 0, value * 1e9 < Double(Int64.max) else { return nil }
        return .nanoseconds(Int64((value * 1e9).rounded()))
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return self[first...last]
    }
}

extension Substring {
    /// `("1.5", "s")` for `1.5s`, `("64", "KiB")` for `64 KiB`: the leading number (digits,
    /// `.`, a leading sign) and what follows it, spaces between removed.
    func splitNumberAndUnit() -> (number: Substring, unit: Substring) {
        var end = startIndex
        while end < endIndex, self[end].isNumberPart(atStart: end == startIndex) {
            end = index(after: end)
        }
        var unitStart = end
        while unitStart < endIndex, self[unitStart] == " " {
            unitStart = index(after: unitStart)
        }
        return (self[startIndex..<end], self[unitStart...])
    }
}

extension Character {
    fileprivate func isNumberPart(atStart: Bool) -> Bool {
        if ("0"..."9").contains(self) || self == "." { return true }
        return atStart && (self == "-" || self == "+")
    }
}
