/// A strftime pattern (`%d/%b/%Y:%H:%M:%S %z`) compiled once into tokens, then matched
/// against timestamp bytes per line.
///
/// Directives: `%Y` (1–4 digit year), `%y` (two-digit year: 69–99 → 19xx, else 20xx), `%m`,
/// `%d`, `%e` (day, space-padded), `%H`, `%k` (hour, space-padded), `%I`, `%l` (12-hour),
/// `%p` (AM/PM), `%M`, `%S`, `%f` (fraction digits, any count; milliseconds kept), `%j`
/// (day of the year), `%b` `%h` `%B` (English month name, abbreviated or full, any case),
/// `%a` `%A` (weekday name, read and ignored), `%z` (`Z`, `+01:00`, `+0100`, `+01`), `%Z`
/// (only `UTC`, `GMT`, `UT` or `Z`), `%s` (Unix seconds, overriding every other field),
/// `%T` (`%H:%M:%S`), `%F` (`%Y-%m-%d`), `%D` (`%m/%d/%y`), `%R` (`%H:%M`), `%n` `%t`
/// (whitespace) and `%%`.
///
/// Whitespace in the pattern matches one or more spaces or tabs; other characters match
/// themselves exactly. The whole value must match (trailing whitespace allowed). Without a
/// zone directive the time is UTC; without a year see ``TimestampFormat/parse(_:)``;
/// a missing month or day is January or the 1st.
public struct StrftimePattern: Sendable, Equatable, CustomStringConvertible {
    /// The pattern as written in the rule.
    public let pattern: String
    private let tokens: [Token]
    /// Whether the pattern has a year (`%Y`, `%y`, `%F`, `%D`) or `%s`; without one the year
    /// comes from the clock.
    private let hasYear: Bool

    public var description: String { pattern }

    /// Compiles `pattern`; throws naming the first unknown directive.
    public init(_ pattern: String) throws(TimestampFormatError) {
        var tokens: [Token] = []
        var scalars = pattern.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar {
            case " ", "\t":
                if tokens.last != .whitespace { tokens.append(.whitespace) }
            case "%":
                guard let directive = scalars.next() else {
                    throw TimestampFormatError(
                        message: "timestamp format \"\(pattern)\" ends with a lone %; write %% for a literal %")
                }
                guard let expansion = Self.expand(directive) else {
                    throw TimestampFormatError(
                        message: "unknown directive %\(directive) in timestamp format \"\(pattern)\"")
                }
                for token in expansion where !(token == .whitespace && tokens.last == .whitespace) {
                    tokens.append(token)
                }
            default:
                for byte in String(scalar).utf8 { tokens.append(.literal(byte)) }
            }
        }
        self.pattern = pattern
        self.tokens = tokens
        self.hasYear = tokens.contains { token in
            switch token {
            case .field(.year4), .field(.year2), .field(.epochSeconds): return true
            default: return false
            }
        }
    }

    public static func == (lhs: StrftimePattern, rhs: StrftimePattern) -> Bool {
        lhs.pattern == rhs.pattern
    }

    /// A part of a date or time a directive reads.
    private enum Field: Equatable, Sendable {
        case year4, year2, month, day, spacePaddedDay, hour, spacePaddedHour, hour12, spacePaddedHour12
        case minute, second, fraction, dayOfYear, monthName, weekdayName, meridiem
        case zoneOffset, zoneName, epochSeconds
    }

    /// One step of the compiled pattern: a byte to match, a run of whitespace, or a field.
    private enum Token: Equatable, Sendable {
        case literal(UInt8)
        case whitespace
        case field(Field)
    }

    private static func expand(_ directive: Unicode.Scalar) -> [Token]? {
        switch directive {
        case "Y": return [.field(.year4)]
        case "y": return [.field(.year2)]
        case "m": return [.field(.month)]
        case "d": return [.field(.day)]
        case "e": return [.field(.spacePaddedDay)]
        case "H": return [.field(.hour)]
        case "k": return [.field(.spacePaddedHour)]
        case "I": return [.field(.hour12)]
        case "l": return [.field(.spacePaddedHour12)]
        case "M": return [.field(.minute)]
        case "S": return [.field(.second)]
        case "f": return [.field(.fraction)]
        case "j": return [.field(.dayOfYear)]
        case "b", "h", "B": return [.field(.monthName)]
        case "a", "A": return [.field(.weekdayName)]
        case "p": return [.field(.meridiem)]
        case "z": return [.field(.zoneOffset)]
        case "Z": return [.field(.zoneName)]
        case "s": return [.field(.epochSeconds)]
        case "T":
            return [
                .field(.hour), .literal(UInt8(ascii: ":")), .field(.minute), .literal(UInt8(ascii: ":")),
                .field(.second),
            ]
        case "F":
            return [
                .field(.year4), .literal(UInt8(ascii: "-")), .field(.month), .literal(UInt8(ascii: "-")), .field(.day),
            ]
        case "D":
            return [
                .field(.month), .literal(UInt8(ascii: "/")), .field(.day), .literal(UInt8(ascii: "/")), .field(.year2),
            ]
        case "R": return [.field(.hour), .literal(UInt8(ascii: ":")), .field(.minute)]
        case "n", "t": return [.whitespace]
        case "%": return [.literal(UInt8(ascii: "%"))]
        default: return nil
        }
    }

    /// What matching collected, before it is turned into an instant.
    private struct Fields {
        var year: Int?
        var month: Int?
        var day: Int?
        var dayOfYear: Int?
        var hour = 0
        var hour12: Int?
        var isPM: Bool?
        var minute = 0
        var second = 0
        var milliseconds = 0
        var offsetSeconds = 0
        var epochSeconds: Int64?
    }

    /// The instant `text` denotes, or `nil` when it does not match or a field is out of range.
    /// `now` is asked only when the pattern has no year.
    func parse(_ text: UnsafeRawBufferPointer, now: () -> Int64) -> Int64? {
        guard let fields = match(text) else { return nil }
        if let epochSeconds = fields.epochSeconds {
            let (milliseconds, overflow) = epochSeconds.multipliedReportingOverflow(by: 1000)
            guard !overflow else { return nil }
            return epochSeconds < 0
                ? milliseconds - Int64(fields.milliseconds) : milliseconds + Int64(fields.milliseconds)
        }
        var hour = fields.hour
        if let hour12 = fields.hour12 {
            guard (1...12).contains(hour12) else { return nil }
            hour = hour12 % 12 + (fields.isPM == true ? 12 : 0)
        }
        if let year = fields.year {
            return instant(fields, year: year, hour: hour)
        }
        // No year in the text: this year, unless that lies more than a day ahead.
        let nowMilliseconds = now()
        let currentYear = CivilCalendar.year(ofDay: Int(nowMilliseconds.floorDividedBy(86_400_000)))
        guard let thisYear = instant(fields, year: currentYear, hour: hour) else {
            // February 29 in a common year may still be valid last year (and vice versa).
            return instant(fields, year: currentYear - 1, hour: hour)
        }
        if thisYear > nowMilliseconds + 86_400_000 {
            return instant(fields, year: currentYear - 1, hour: hour)
        }
        return thisYear
    }

    private func instant(_ fields: Fields, year: Int, hour: Int) -> Int64? {
        if fields.month == nil, fields.day == nil, let dayOfYear = fields.dayOfYear {
            guard dayOfYear >= 1, dayOfYear <= (CivilCalendar.isLeapYear(year) ? 366 : 365) else { return nil }
            let days = CivilCalendar.daysFromCivil(year: year, month: 1, day: 1) + dayOfYear - 1
            return CivilCalendar.milliseconds(
                days: days, hour: hour, minute: fields.minute, second: fields.second,
                milliseconds: fields.milliseconds, offsetSeconds: fields.offsetSeconds)
        }
        return CivilCalendar.milliseconds(
            year: year, month: fields.month ?? 1, day: fields.day ?? 1, hour: hour, minute: fields.minute,
            second: fields.second, milliseconds: fields.milliseconds, offsetSeconds: fields.offsetSeconds)
    }

    private func match(_ text: UnsafeRawBufferPointer) -> Fields? {
        var scanner = ByteScanner(text)
        var fields = Fields()
        for token in tokens {
            switch token {
            case .literal(let byte):
                guard scanner.skip(byte) else { return nil }
            case .whitespace:
                guard scanner.skipWhitespace() else { return nil }
            case .field(let field):
                guard Self.read(field, from: &scanner, into: &fields) else { return nil }
            }
        }
        _ = scanner.skipWhitespace()
        return scanner.isAtEnd ? fields : nil
    }

    private static func read(_ field: Field, from scanner: inout ByteScanner, into fields: inout Fields) -> Bool {
        switch field {
        case .year4:
            guard let year = scanner.digits(upTo: 4) else { return false }
            fields.year = year
        case .year2:
            guard let year = scanner.digits(exactly: 2) else { return false }
            fields.year = year < 69 ? 2000 + year : 1900 + year
        case .month:
            guard let month = scanner.digits(upTo: 2) else { return false }
            fields.month = month
        case .day:
            guard let day = scanner.digits(upTo: 2) else { return false }
            fields.day = day
        case .spacePaddedDay:
            _ = scanner.skipWhitespace()
            guard let day = scanner.digits(upTo: 2) else { return false }
            fields.day = day
        case .hour:
            guard let hour = scanner.digits(upTo: 2) else { return false }
            fields.hour = hour
        case .spacePaddedHour:
            _ = scanner.skipWhitespace()
            guard let hour = scanner.digits(upTo: 2) else { return false }
            fields.hour = hour
        case .hour12:
            guard let hour = scanner.digits(upTo: 2) else { return false }
            fields.hour12 = hour
        case .spacePaddedHour12:
            _ = scanner.skipWhitespace()
            guard let hour = scanner.digits(upTo: 2) else { return false }
            fields.hour12 = hour
        case .minute:
            guard let minute = scanner.digits(upTo: 2) else { return false }
            fields.minute = minute
        case .second:
            guard let second = scanner.digits(upTo: 2) else { return false }
            fields.second = second
        case .fraction:
            guard let milliseconds = scanner.fractionMilliseconds() else { return false }
            fields.milliseconds = milliseconds
        case .dayOfYear:
            guard let day = scanner.digits(upTo: 3) else { return false }
            fields.dayOfYear = day
        case .monthName:
            guard let month = readMonthName(&scanner) else { return false }
            fields.month = month
        case .weekdayName:
            guard readWeekdayName(&scanner) else { return false }
        case .meridiem:
            if scanner.skip(caseInsensitive: "AM") || scanner.skip(caseInsensitive: "A.M.") {
                fields.isPM = false
            } else if scanner.skip(caseInsensitive: "PM") || scanner.skip(caseInsensitive: "P.M.") {
                fields.isPM = true
            } else {
                return false
            }
        case .zoneOffset:
            guard let offset = scanner.zoneOffsetSeconds() else { return false }
            fields.offsetSeconds = offset
        case .zoneName:
            guard
                scanner.skip(caseInsensitive: "UTC") || scanner.skip(caseInsensitive: "GMT")
                    || scanner.skip(caseInsensitive: "UT") || scanner.skip(caseInsensitive: "Z")
            else { return false }
            fields.offsetSeconds = 0
        case .epochSeconds:
            let negative = scanner.skip(UInt8(ascii: "-"))
            var seconds: Int64 = 0
            var count = 0
            while let byte = scanner.peek(), byte &- UInt8(ascii: "0") < 10 {
                let (shifted, overflow1) = seconds.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = shifted.addingReportingOverflow(Int64(byte &- UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return false }
                seconds = next
                count += 1
                scanner.index += 1
            }
            guard count > 0 else { return false }
            fields.epochSeconds = negative ? -seconds : seconds
        }
        return true
    }

    /// A month name, full or abbreviated, any case: 1–12.
    private static func readMonthName(_ scanner: inout ByteScanner) -> Int? {
        // Full names first: "May" is both, and "March" must not stop at "Mar".
        for (month, names) in monthNames.enumerated()
        where scanner.skip(caseInsensitive: names.full) || scanner.skip(caseInsensitive: names.short) {
            return month + 1
        }
        return nil
    }

    private static func readWeekdayName(_ scanner: inout ByteScanner) -> Bool {
        for names in weekdayNames
        where scanner.skip(caseInsensitive: names.full) || scanner.skip(caseInsensitive: names.short) {
            return true
        }
        return false
    }

    private static let monthNames: [(full: StaticString, short: StaticString)] = [
        ("January", "Jan"), ("February", "Feb"), ("March", "Mar"), ("April", "Apr"), ("May", "May"),
        ("June", "Jun"), ("July", "Jul"), ("August", "Aug"), ("September", "Sep"), ("October", "Oct"),
        ("November", "Nov"), ("December", "Dec"),
    ]

    private static let weekdayNames: [(full: StaticString, short: StaticString)] = [
        ("Monday", "Mon"), ("Tuesday", "Tue"), ("Wednesday", "Wed"), ("Thursday", "Thu"), ("Friday", "Fri"),
        ("Saturday", "Sat"), ("Sunday", "Sun"),
    ]
}
