#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a rule's `timestamp: { field, format }` reads the field.
///
/// Parsing works on the value's UTF-8 bytes and computes the instant with proleptic
/// Gregorian arithmetic (``CivilCalendar``): no `DateFormatter`, `Calendar` or time-zone
/// database, so nothing depends on the host's locale or zone, and a line costs no allocation.
public enum TimestampFormat: Sendable, Equatable {
    /// `2026-11-22T10:00:00Z`, `2026-11-22T10:00:00.123+01:00` (also a space or `t` for `T`,
    /// `z` for `Z`, offsets as `+01:00`, `+0100` or `+01`, a comma before the fraction, and
    /// any number of fraction digits). A time without an offset is read as UTC.
    case rfc3339
    /// Unix seconds, integer or fractional, as a number or a string.
    case unix
    /// Unix milliseconds, as a number or a string.
    case unixMilliseconds
    /// A strftime pattern, e.g. nginx's `%d/%b/%Y:%H:%M:%S %z`, compiled once.
    case strftime(StrftimePattern)

    /// Parses the `format:` key: `rfc3339`, `unix`, `unix_ms`, or a pattern containing `%`.
    /// Throws a ``TimestampFormatError`` naming an unknown format or directive.
    public init(parsing text: String) throws(TimestampFormatError) {
        switch text {
        case "rfc3339": self = .rfc3339
        case "unix": self = .unix
        case "unix_ms": self = .unixMilliseconds
        default:
            guard text.utf8.contains(UInt8(ascii: "%")) else {
                throw TimestampFormatError(
                    message: "unknown timestamp format \"\(text)\": use rfc3339, unix, unix_ms "
                        + "or a strftime pattern such as \"%d/%b/%Y:%H:%M:%S %z\"")
            }
            self = .strftime(try StrftimePattern(text))
        }
    }

    /// The instant `value` denotes, in milliseconds since the Unix epoch, or `nil` when it
    /// does not match the format. Strings are parsed by every format; integers and doubles
    /// only by `unix` and `unix_ms`.
    ///
    /// A pattern without a year (syslog's `%b %e %H:%M:%S`) takes the current UTC year, or
    /// the previous one when that would put the time more than a day in the future (a
    /// December line read in January).
    public func parse(_ value: JSONValue) -> Int64? {
        parse(value, now: CivilCalendar.currentMilliseconds)
    }

    /// ``parse(_:)`` with the current time given, for patterns without a year.
    public func parse(_ value: JSONValue, nowMilliseconds: Int64) -> Int64? {
        parse(value, now: { nowMilliseconds })
    }

    /// Parses raw text (a regex capture) without making a `String` of it first.
    public func parse(text: UnsafeRawBufferPointer) -> Int64? {
        parse(text: text, now: CivilCalendar.currentMilliseconds)
    }

    /// ``parse(text:)`` with the current time given, for patterns without a year.
    public func parse(text: UnsafeRawBufferPointer, nowMilliseconds: Int64) -> Int64? {
        parse(text: text, now: { nowMilliseconds })
    }

    private func parse(_ value: JSONValue, now: () -> Int64) -> Int64? {
        switch value {
        case .string(let text):
            if let result = text.utf8.withContiguousStorageIfAvailable({
                parse(text: UnsafeRawBufferPointer($0), now: now)
            }) {
                return result
            }
            return Array(text.utf8).withUnsafeBytes { parse(text: $0, now: now) }
        case .int(let number):
            switch self {
            case .unix:
                let (milliseconds, overflow) = number.multipliedReportingOverflow(by: 1000)
                return overflow ? nil : milliseconds
            case .unixMilliseconds: return number
            case .rfc3339, .strftime: return nil
            }
        case .double(let number):
            switch self {
            case .unix: return Self.milliseconds(fromDouble: number * 1000)
            case .unixMilliseconds: return Self.milliseconds(fromDouble: number)
            case .rfc3339, .strftime: return nil
            }
        case .null, .bool, .array, .object:
            return nil
        }
    }

    private func parse(text: UnsafeRawBufferPointer, now: () -> Int64) -> Int64? {
        switch self {
        case .rfc3339: return RFC3339Reader.parse(text)
        case .unix: return Self.parseDecimal(text, scale: 1000)
        case .unixMilliseconds: return Self.parseDecimal(text, scale: 1)
        case .strftime(let pattern): return pattern.parse(text, now: now)
        }
    }

    /// A finite double rounded to whole milliseconds, or `nil` outside `Int64`.
    private static func milliseconds(fromDouble value: Double) -> Int64? {
        guard value.isFinite, abs(value) < 9.2e18 else { return nil }
        return Int64(value.rounded())
    }

    /// A decimal string (`1795341600`, `-1.5`, ` 1795341600.123 `) times `scale` (1000 for
    /// seconds), dropping fraction digits below a millisecond. Exponent forms (`1.7e9`) go
    /// through `Double`.
    static func parseDecimal(_ text: UnsafeRawBufferPointer, scale: Int64) -> Int64? {
        var start = 0
        var end = text.count
        while start < end, text[start] == 0x20 || text[start] == 0x09 { start += 1 }
        while end > start, text[end - 1] == 0x20 || text[end - 1] == 0x09 { end -= 1 }
        var index = start
        var negative = false
        if index < end, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        var whole: Int64 = 0
        var digits = 0
        while index < end, text[index] &- UInt8(ascii: "0") < 10 {
            let (shifted, overflow1) = whole.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.addingReportingOverflow(Int64(text[index] &- UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            whole = next
            digits += 1
            index += 1
        }
        var fraction: Int64 = 0  // the fraction times `scale`, digits below 1/scale dropped
        var fractionDigits = 0
        if index < end, text[index] == UInt8(ascii: ".") {
            index += 1
            var place = scale
            while index < end, text[index] &- UInt8(ascii: "0") < 10 {
                place /= 10
                fraction += Int64(text[index] &- UInt8(ascii: "0")) * place
                fractionDigits += 1
                index += 1
            }
        }
        if index != end || digits + fractionDigits == 0 {
            // Not plain decimal: allow an exponent form, nothing else.
            let slice = UnsafeRawBufferPointer(rebasing: text[start..<end])
            guard slice.contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
                let number = Double(String(decoding: slice, as: UTF8.self))
            else { return nil }
            return milliseconds(fromDouble: number * Double(scale))
        }
        let (scaled, overflow1) = whole.multipliedReportingOverflow(by: scale)
        let (magnitude, overflow2) = scaled.addingReportingOverflow(fraction)
        if overflow1 || overflow2 { return nil }
        return negative ? -magnitude : magnitude
    }
}

/// A `format:` that cannot be used.
public struct TimestampFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Reads RFC 3339 timestamps, with the leniencies ``TimestampFormat/rfc3339`` lists.
enum RFC3339Reader {
    static func parse(_ text: UnsafeRawBufferPointer) -> Int64? {
        var scanner = ByteScanner(text)
        guard let year = scanner.digits(exactly: 4), scanner.skip(UInt8(ascii: "-")),
            let month = scanner.digits(exactly: 2), scanner.skip(UInt8(ascii: "-")),
            let day = scanner.digits(exactly: 2)
        else { return nil }
        guard let separator = scanner.next(),
            separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == 0x20
        else { return nil }
        guard let hour = scanner.digits(exactly: 2), scanner.skip(UInt8(ascii: ":")),
            let minute = scanner.digits(exactly: 2), scanner.skip(UInt8(ascii: ":")),
            let second = scanner.digits(exactly: 2)
        else { return nil }
        var fraction = 0
        if scanner.skip(UInt8(ascii: ".")) || scanner.skip(UInt8(ascii: ",")) {
            guard let milliseconds = scanner.fractionMilliseconds() else { return nil }
            fraction = milliseconds
        }
        var offset = 0
        if !scanner.isAtEnd {
            guard let parsed = scanner.zoneOffsetSeconds() else { return nil }
            offset = parsed
        }
        guard scanner.isAtEnd else { return nil }
        return CivilCalendar.milliseconds(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second,
            milliseconds: fraction, offsetSeconds: offset)
    }
}

/// A cursor over timestamp text with the small readers both ``RFC3339Reader`` and
/// ``StrftimePattern`` need.
struct ByteScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index >= bytes.count }

    func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    /// Consumes `byte` if it comes next.
    mutating func skip(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    /// Consumes one or more spaces or tabs.
    mutating func skipWhitespace() -> Bool {
        let start = index
        while let byte = peek(), byte == 0x20 || byte == 0x09 { index += 1 }
        return index > start
    }

    /// Exactly `count` decimal digits.
    mutating func digits(exactly count: Int) -> Int? {
        guard index + count <= bytes.count else { return nil }
        var value = 0
        for _ in 0..<count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
            index += 1
        }
        return value
    }

    /// One to `maximum` decimal digits, as many as there are.
    mutating func digits(upTo maximum: Int) -> Int? {
        var value = 0
        var count = 0
        while count < maximum, let byte = peek(), byte &- UInt8(ascii: "0") < 10 {
            value = value * 10 + Int(byte &- UInt8(ascii: "0"))
            count += 1
            index += 1
        }
        return count > 0 ? value : nil
    }

    /// One or more fraction digits as whole milliseconds (digits past the third dropped).
    mutating func fractionMilliseconds() -> Int? {
        var milliseconds = 0
        var count = 0
        while let byte = peek(), byte &- UInt8(ascii: "0") < 10 {
            if count < 3 { milliseconds = milliseconds * 10 + Int(byte &- UInt8(ascii: "0")) }
            count += 1
            index += 1
        }
        guard count > 0 else { return nil }
        for _ in count..<max(count, 3) { milliseconds *= 10 }
        return milliseconds
    }

    /// `Z`, `z`, or `±HH:MM`, `±HHMM`, `±HH`, as seconds east of UTC.
    mutating func zoneOffsetSeconds() -> Int? {
        guard let sign = next() else { return nil }
        switch sign {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"): return 0
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let hours = digits(exactly: 2), hours <= 23 else { return nil }
            var minutes = 0
            if skip(UInt8(ascii: ":")) {
                guard let parsed = digits(exactly: 2) else { return nil }
                minutes = parsed
            } else if let byte = peek(), byte &- UInt8(ascii: "0") < 10 {
                guard let parsed = digits(exactly: 2) else { return nil }
                minutes = parsed
            }
            guard minutes <= 59 else { return nil }
            let seconds = hours * 3600 + minutes * 60
            return sign == UInt8(ascii: "-") ? -seconds : seconds
        default:
            return nil
        }
    }

    /// Consumes `word` compared case-insensitively (ASCII letters only).
    mutating func skip(caseInsensitive word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let letters = word.utf8Start
        for offset in 0..<count where bytes[index + offset] | 0x20 != letters[offset] | 0x20 {
            return false
        }
        index += count
        return true
    }
}

/// Proleptic Gregorian calendar arithmetic in UTC (Howard Hinnant's days-from-civil
/// algorithms), so that dates never go through a locale- or zone-dependent API.
enum CivilCalendar {
    /// Days from 1970-01-01 to the given date; `month` 1–12.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year  // years start in March here
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The year of the day `days` after 1970-01-01.
    static func year(ofDay days: Int) -> Int {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        return yearOfEra + era * 400 + (monthFromMarch >= 10 ? 1 : 0)
    }

    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Milliseconds since the epoch of a local time at `offsetSeconds` east of UTC, or `nil`
    /// when a field is out of range (month 13, February 30, hour 24, second 61).
    static func milliseconds(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int,
        milliseconds: Int, offsetSeconds: Int
    ) -> Int64? {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return self.milliseconds(
            days: days, hour: hour, minute: minute, second: second, milliseconds: milliseconds,
            offsetSeconds: offsetSeconds)
    }

    /// Milliseconds since the epoch of a time of day on day `days` after 1970-01-01.
    static func milliseconds(
        days: Int, hour: Int, minute: Int, second: Int, milliseconds: Int, offsetSeconds: Int
    ) -> Int64? {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        return seconds * 1000 + Int64(milliseconds)
    }

    /// The wall-clock time now, in milliseconds since the epoch.
    static func currentMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
