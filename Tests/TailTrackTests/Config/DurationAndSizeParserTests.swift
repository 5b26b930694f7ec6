import Testing

@testable import TailTrack

@Suite struct DurationAndSizeParserTests {
    @Test(arguments: [
        ("200ms", Duration.milliseconds(200)),
        ("1s", .seconds(1)),
        ("1.5s", .milliseconds(1500)),
        ("5m", .seconds(300)),
        ("1h", .seconds(3600)),
        ("2d", .seconds(172_800)),
        ("250us", .microseconds(250)),
        ("10ns", .nanoseconds(10)),
        ("3", .seconds(3)),
        ("0.25", .milliseconds(250)),
        (" 2s ", .seconds(2)),
        ("0s", .zero),
    ])
    func durations(text: String, expected: Duration) {
        #expect(DurationParser.parse(text) == expected)
    }

    @Test(arguments: ["", "s", "5 minutes", "-1s", "1x", "1S", "1.2.3s", "ms5"])
    func badDurations(text: String) {
        #expect(DurationParser.parse(text) == nil)
    }

    @Test(arguments: [
        ("500", Int64(500)),
        ("500B", 500),
        ("500b", 500),
        ("500KB", 500_000),
        ("500kb", 500_000),
        ("64KiB", 65_536),
        ("64kib", 65_536),
        ("1MB", 1_000_000),
        ("1MiB", 1_048_576),
        ("1GB", 1_000_000_000),
        ("1GiB", 1_073_741_824),
        ("1.5KiB", 1_536),
        ("64 KiB", 65_536),
    ])
    func sizes(text: String, expected: Int64) {
        #expect(SizeParser.parse(text) == expected)
    }

    @Test(arguments: ["", "lots", "-1", "1.5", "1TB", "0.5B", "KB", "1.0001KB"])
    func badSizes(text: String) {
        #expect(SizeParser.parse(text) == nil)
    }
}
