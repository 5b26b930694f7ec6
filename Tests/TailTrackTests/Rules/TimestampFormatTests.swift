import Testing

@testable import TailTrack

@Suite struct TimestampFormatTests {
    /// 2026-11-22T10:00:00Z, checked with `date -u -d 2026-11-22T10:00:00Z +%s`.
    static let reference: Int64 = 1_795_341_600_000

    private func format(_ text: String) -> TimestampFormat? {
        try? TimestampFormat(parsing: text)
    }

    private func parse(_ text: String, as formatText: String, now: Int64 = reference) -> Int64? {
        format(formatText)?.parse(.string(text), nowMilliseconds: now)
    }

    // MARK: - The format key

    @Test func parsesTheNamedFormats() throws {
        #expect(try TimestampFormat(parsing: "rfc3339") == .rfc3339)
        #expect(try TimestampFormat(parsing: "unix") == .unix)
        #expect(try TimestampFormat(parsing: "unix_ms") == .unixMilliseconds)
        #expect(try TimestampFormat(parsing: "%Y-%m-%d") == .strftime(try StrftimePattern("%Y-%m-%d")))
        #expect(try TimestampFormat(parsing: "%Y") != TimestampFormat(parsing: "%y"))
    }

    @Test func rejectsAnUnknownFormatName() {
        #expect(
            throws: TimestampFormatError(
                message: "unknown timestamp format \"iso8601\": use rfc3339, unix, unix_ms "
                    + "or a strftime pattern such as \"%d/%b/%Y:%H:%M:%S %z\"")
        ) {
            try TimestampFormat(parsing: "iso8601")
        }
    }

    @Test func rejectsAnUnknownDirectiveByName() {
        #expect(throws: TimestampFormatError(message: "unknown directive %Q in timestamp format \"%Y-%m-%d %Q\"")) {
            try TimestampFormat(parsing: "%Y-%m-%d %Q")
        }
        #expect(throws: TimestampFormatError(message: "unknown directive %é in timestamp format \"%é\"")) {
            try TimestampFormat(parsing: "%é")
        }
        let error = TimestampFormatError(message: "unknown directive %Q in timestamp format \"%Q\"")
        #expect(error.description == "unknown directive %Q in timestamp format \"%Q\"")
    }

    @Test func rejectsALonePercentAtTheEnd() {
        #expect(
            throws: TimestampFormatError(
                message: "timestamp format \"%H:%M %\" ends with a lone %; write %% for a literal %")
        ) {
            try TimestampFormat(parsing: "%H:%M %")
        }
    }

    // MARK: - rfc3339

    @Test(
        arguments: [
            ("2026-11-22T10:00:00Z", reference),
            ("2026-11-22T10:00:00.123Z", reference + 123),
            ("2026-11-22T10:00:00.1Z", reference + 100),
            ("2026-11-22T10:00:00.12Z", reference + 120),
            ("2026-11-22T10:00:00.123456789Z", reference + 123),
            ("2026-11-22T10:00:00,5Z", reference + 500),
            ("2026-11-22T11:00:00+01:00", reference),
            ("2026-11-22T11:30:00+0130", reference),
            ("2026-11-22T12:00:00+02", reference),
            ("2026-11-22T05:00:00-0500", reference),
            ("2026-11-22T05:00:00.250-05:00", reference + 250),
            ("2026-11-22T10:00:00+00:00", reference),
            ("2026-11-22t10:00:00z", reference),
            ("2026-11-22 10:00:00Z", reference),
            ("2026-11-22T10:00:00", reference),
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59Z", -1000),
            ("2024-02-29T00:00:00Z", 1_709_164_800_000),
            ("2000-03-01T00:00:00Z", 951_868_800_000),
            ("2026-12-31T23:59:59Z", 1_798_761_599_000),
            ("2026-12-31T23:59:60Z", 1_798_761_600_000),
        ] as [(String, Int64)])
    func readsRFC3339(_ text: String, _ expected: Int64) {
        #expect(TimestampFormat.rfc3339.parse(.string(text)) == expected)
    }

    @Test(arguments: [
        "2026-13-22T10:00:00Z", "2026-00-22T10:00:00Z", "2026-11-31T10:00:00Z", "2026-11-00T10:00:00Z",
        "2026-02-29T10:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T25:00:00Z", "2026-11-22T10:60:00Z",
        "2026-11-22T10:00:61Z", "2026-11-22T10:00:00+24:00", "2026-11-22T10:00:00+01:60",
        "2026-11-22", "2026-11-22T10:00Z", "2026-11-22X10:00:00Z", "26-11-22T10:00:00Z", "2026-1-22T10:00:00Z",
        "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00Zjunk", "2026-11-22T10:00:00+1", "2026-11-22T10:00:00 Z",
        " 2026-11-22T10:00:00Z", "", "yesterday",
    ])
    func rejectsMalformedRFC3339(_ text: String) {
        #expect(TimestampFormat.rfc3339.parse(.string(text)) == nil)
    }

    @Test func rfc3339ReadsOnlyStrings() {
        #expect(TimestampFormat.rfc3339.parse(.int(1_795_341_600)) == nil)
        #expect(TimestampFormat.rfc3339.parse(.double(1_795_341_600)) == nil)
        #expect(TimestampFormat.rfc3339.parse(.null) == nil)
        #expect(TimestampFormat.rfc3339.parse(.bool(true)) == nil)
        #expect(TimestampFormat.rfc3339.parse(.array([.string("2026-11-22T10:00:00Z")])) == nil)
    }

    @Test func parsesRawTextLikeAString() {
        let bytes = Array("2026-11-22T10:00:00Z".utf8)
        #expect(bytes.withUnsafeBytes { TimestampFormat.rfc3339.parse(text: $0) } == Self.reference)
    }

    // MARK: - unix and unix_ms

    @Test(
        arguments: [
            (JSONValue.int(1_795_341_600), reference),
            (.int(-1), -1000),
            (.double(1_795_341_600.123), reference + 123),
            (.double(1_795_341_600), reference),
            (.string("1795341600"), reference),
            (.string("1795341600.5"), reference + 500),
            (.string("1795341600.123999"), reference + 123),
            (.string(" 1795341600 "), reference),
            (.string("+1795341600"), reference),
            (.string("-1.5"), -1500),
            (.string(".5"), 500),
            (.string("1.7953416e9"), reference),
        ] as [(JSONValue, Int64)])
    func readsUnixSeconds(_ value: JSONValue, _ expected: Int64) {
        #expect(TimestampFormat.unix.parse(value) == expected)
    }

    @Test(arguments: [
        JSONValue.string(""), .string("abc"), .string("12abc"), .string("1.2.3"), .string("-"), .string("."),
        .string("99999999999999999999"), .int(.max), .double(.nan), .double(.infinity), .double(1e300),
        .bool(true), .null, .object([]),
    ])
    func rejectsNonNumericUnixValues(_ value: JSONValue) {
        #expect(TimestampFormat.unix.parse(value) == nil)
    }

    @Test(
        arguments: [
            (JSONValue.int(1_795_341_600_123), reference + 123),
            (.double(1_795_341_600_123.4), reference + 123),
            (.double(1_795_341_600_123.6), reference + 124),
            (.string("1795341600123"), reference + 123),
            (.string("1795341600123.9"), reference + 123),
            (.string("-5"), -5),
        ] as [(JSONValue, Int64)])
    func readsUnixMilliseconds(_ value: JSONValue, _ expected: Int64) {
        #expect(TimestampFormat.unixMilliseconds.parse(value) == expected)
    }

    @Test func unixMillisecondsRejectsText() {
        #expect(TimestampFormat.unixMilliseconds.parse(.string("now")) == nil)
        #expect(TimestampFormat.unixMilliseconds.parse(.bool(false)) == nil)
    }

    // MARK: - strftime: common logs

    @Test func readsNginxAndApacheAccessLogTimes() {
        // `date -u -d '2026-11-22 10:00:00 +0100' +%s` = 1795338000.
        #expect(parse("22/Nov/2026:10:00:00 +0100", as: "%d/%b/%Y:%H:%M:%S %z") == 1_795_338_000_000)
        #expect(parse("22/Nov/2026:10:00:00 -0000", as: "%d/%b/%Y:%H:%M:%S %z") == Self.reference)
        #expect(parse("22/nov/2026:10:00:00 +01:00", as: "%d/%b/%Y:%H:%M:%S %z") == 1_795_338_000_000)
    }

    @Test func readsApacheErrorLogTimes() {
        #expect(parse("Sun Nov 22 10:00:00.123456 2026", as: "%a %b %d %H:%M:%S.%f %Y") == Self.reference + 123)
    }

    @Test func readsPythonLoggingTimes() {
        #expect(parse("2026-11-22 10:00:00,123", as: "%Y-%m-%d %H:%M:%S,%f") == Self.reference + 123)
    }

    @Test func readsSyslogTimesInTheCurrentYear() {
        #expect(parse("Nov 22 10:00:00", as: "%b %e %H:%M:%S") == Self.reference)
        // 2026-11-02T10:00:00Z: a single-digit day is padded with a space.
        #expect(parse("Nov  2 10:00:00", as: "%b %e %H:%M:%S") == 1_793_613_600_000)
        #expect(parse("Nov 2 10:00:00", as: "%b %e %H:%M:%S") == 1_793_613_600_000)
    }

    @Test func syslogTimesMoreThanADayAheadBelongToLastYear() {
        let newYear: Int64 = 1_798_761_610_000  // 2027-01-01T00:00:10Z
        #expect(parse("Dec 31 23:59:59", as: "%b %e %H:%M:%S", now: newYear) == 1_798_761_599_000)
        #expect(parse("Jan  1 00:00:05", as: "%b %e %H:%M:%S", now: newYear) == 1_798_761_605_000)
        // A few hours ahead (a skewed clock) stays in this year.
        #expect(parse("Nov 22 13:00:00", as: "%b %e %H:%M:%S") == Self.reference + 3 * 3_600_000)
    }

    @Test func aLeapDayWithoutAYearFallsBackToALeapYear() {
        let march2029: Int64 = 1_867_017_600_000  // 2029-03-01T00:00:00Z
        // 2029 is not a leap year, 2028 is: 2028-02-29T12:00:00Z.
        #expect(parse("Feb 29 12:00:00", as: "%b %d %H:%M:%S", now: march2029) == 1_835_438_400_000)
    }

    // MARK: - strftime: each directive

    @Test(
        arguments: [
            ("%Y-%m-%dT%H:%M:%S", "2026-11-22T10:00:00", reference),
            ("%y-%m-%d %H:%M:%S", "26-11-22 10:00:00", reference),
            ("%y-%m-%d %H:%M:%S", "99-11-22 10:00:00", 943_264_800_000),
            ("%d %B %Y %T", "22 November 2026 10:00:00", reference),
            ("%d %B %Y %T", "22 NOVEMBER 2026 10:00:00", reference),
            ("%d %h %Y %T", "22 nov 2026 10:00:00", reference),
            ("%d %b %Y %T", "22 November 2026 10:00:00", reference),
            ("%A, %d %b %Y %T", "Sunday, 22 Nov 2026 10:00:00", reference),
            ("%a %d %b %Y %T", "sun 22 Nov 2026 10:00:00", reference),
            ("%F %I:%M:%S %p", "2026-11-22 10:00:00 AM", reference),
            ("%F %I:%M:%S %p", "2026-11-22 10:00:00 PM", reference + 12 * 3_600_000),
            ("%F %I:%M:%S %p", "2026-11-22 12:30:00 am", 1_795_307_400_000),
            ("%F %I:%M:%S %p", "2026-11-22 12:30:00 pm", 1_795_350_600_000),
            ("%F %l:%M %p", "2026-11-22 10:00 a.m.", reference),
            ("%F %k:%M", "2026-11-22  9:00", reference - 3_600_000),
            ("%Y %j %T", "2026 326 10:00:00", reference),
            ("%Y %j", "2024 060", 1_709_164_800_000),
            ("%F %T %Z", "2026-11-22 10:00:00 UTC", reference),
            ("%F %T %Z", "2026-11-22 10:00:00 GMT", reference),
            ("%F %T %Z", "2026-11-22 10:00:00 Z", reference),
            ("%FT%T.%f%z", "2026-11-22T11:00:00.5+01:00", reference + 500),
            ("%FT%T%z", "2026-11-22T10:00:00Z", reference),
            ("%s", "1795341600", reference),
            ("%s.%f", "1795341600.042", reference + 42),
            ("%s", "-1", -1000),
            ("%D %R", "11/22/26 10:00", reference),
            ("%Y%m%d%H%M%S", "20261122100000", reference),
            ("%Y-%m-%d %H:%M:%S%%", "2026-11-22 10:00:00%", reference),
            ("%F%n%T", "2026-11-22 \t 10:00:00", reference),
            ("%F%t%T", "2026-11-22\t10:00:00", reference),
            ("[%F %T]", "[2026-11-22 10:00:00]", reference),
            ("%F %T", "2026-11-22     10:00:00   ", reference),
            ("%F\t%T", "2026-11-22 10:00:00", reference),
            ("%Y-%m-%d", "2026-11-22", reference - 10 * 3_600_000),
            ("%H:%M %Y", "10:00 2026", 1_767_261_600_000),
        ] as [(String, String, Int64)])
    func readsEachDirective(_ pattern: String, _ text: String, _ expected: Int64) {
        #expect(parse(text, as: pattern) == expected)
    }

    @Test(arguments: [
        ("%Y-%m-%d %H:%M:%S", "2026-13-22 10:00:00"),
        ("%Y-%m-%d %H:%M:%S", "2026-11-31 10:00:00"),
        ("%Y-%m-%d %H:%M:%S", "2026-11-22 25:00:00"),
        ("%Y-%m-%d %H:%M:%S", "2026-11-22 10:61:00"),
        ("%Y-%m-%d %H:%M:%S", "2026-11-22 10:00:61"),
        ("%Y-%m-%d %H:%M:%S", "2026-11-22 10:00:00 extra"),
        ("%Y-%m-%d %H:%M:%S", "2026-11-2210:00:00"),
        ("%Y-%m-%d %H:%M:%S", "2026/11/22 10:00:00"),
        ("%Y-%m-%d %H:%M:%S", ""),
        ("%d/%b/%Y", "22/Foo/2026"),
        ("%a %F", "Funday 2026-11-22"),
        ("%F %I %p", "2026-11-22 13 PM"),
        ("%F %I %p", "2026-11-22 00 AM"),
        ("%F %I %p", "2026-11-22 10 XM"),
        ("%F %T %Z", "2026-11-22 10:00:00 CET"),
        ("%F %T %z", "2026-11-22 10:00:00 +2500"),
        ("%Y %j", "2026 366"),
        ("%Y %j", "2026 000"),
        ("%y", "2026"),
        ("%s", "now"),
        ("%s", "99999999999999999999"),
    ])
    func rejectsWhatDoesNotMatch(_ pattern: String, _ text: String) {
        #expect(parse(text, as: pattern) == nil)
    }

    @Test func strftimeReadsOnlyStrings() {
        #expect(format("%s")?.parse(.int(1_795_341_600)) == nil)
        #expect(format("%s")?.parse(.double(1_795_341_600)) == nil)
    }

    @Test func theClockIsOnlyUsedWithoutAYear() {
        // With a year, `now` does not matter.
        #expect(parse("2026-11-22 10:00:00", as: "%F %T", now: 0) == Self.reference)
        // Without one, the real clock gives this or last year: within a year and a day of now.
        guard let parsed = format("%b %e %H:%M:%S")?.parse(.string("Jan  1 00:00:00")) else {
            Issue.record("did not parse")
            return
        }
        let now = CivilCalendar.currentMilliseconds()
        #expect(parsed <= now + 86_400_000)
        #expect(parsed > now - 367 * 86_400_000)
    }

    // MARK: - The calendar

    @Test func civilDaysMatchKnownDates() {
        #expect(CivilCalendar.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilCalendar.daysFromCivil(year: 2000, month: 3, day: 1) == 11_017)
        #expect(CivilCalendar.daysFromCivil(year: 1969, month: 12, day: 31) == -1)
        #expect(CivilCalendar.daysFromCivil(year: 1600, month: 1, day: 1) == -135_140)
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let year = CivilCalendar.year(ofDay: days)
            let start = CivilCalendar.daysFromCivil(year: year, month: 1, day: 1)
            let next = CivilCalendar.daysFromCivil(year: year + 1, month: 1, day: 1)
            #expect(start <= days && days < next)
        }
        #expect(CivilCalendar.isLeapYear(2000))
        #expect(!CivilCalendar.isLeapYear(1900))
        #expect(CivilCalendar.isLeapYear(2028))
    }
}
