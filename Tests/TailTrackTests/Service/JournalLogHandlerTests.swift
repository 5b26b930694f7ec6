import Logging
import Synchronization
import Testing

@testable import TailTrack

/// Collects the lines a handler writes.
final class CollectedLines: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) {
        lines.withLock { $0.append(line) }
    }
}

@Suite struct JournalLogHandlerTests {
    private func logger(journal: Bool, level: LogLevelControl, limiter: LogRateLimiter? = nil) -> (
        Logger, CollectedLines
    ) {
        let lines = CollectedLines()
        let handler = JournalLogHandler(label: "tailtrack", control: level, journal: journal, limiter: limiter) {
            lines.append($0)
        }
        return (Logger(label: "tailtrack", factory: { _ in handler }), lines)
    }

    @Test func prefixesSyslogPrioritiesForTheJournalWithSortedQuotedMetadata() {
        let (logger, lines) = logger(journal: true, level: LogLevelControl(.info))
        logger.info("Started", metadata: ["sources": "2", "rules": "5"])
        logger.warning("Cannot read file", metadata: ["file.path": "/var/log/my app.log"])
        logger.error("Request failed\nsecond line", metadata: ["http.status": "500"])
        logger.critical("Stopped by an error")
        logger.debug("Not shown at info")

        #expect(
            lines.all == [
                "<6>Started rules=5 sources=2",
                "<4>Cannot read file file.path=\"/var/log/my app.log\"",
                "<3>Request failed\\nsecond line http.status=500",
                "<2>Stopped by an error",
            ])
    }

    @Test func namesTheLevelWhenNotWritingToTheJournal() {
        let (logger, lines) = logger(journal: false, level: LogLevelControl(.debug))
        logger.debug("Polling", metadata: ["empty": ""])
        #expect(lines.all == ["debug tailtrack: Polling empty=\"\""])
    }

    @Test func followsTheSharedLevelWhenAReloadChangesIt() {
        let level = LogLevelControl(.warning)
        let (logger, lines) = logger(journal: true, level: level)
        logger.info("Before")
        level.current = .info
        logger.info("After")
        #expect(lines.all == ["<6>After"])
    }

    @Test func rateLimitsARepeatedErrorAndCountsWhatItDropped() {
        let clock = Mutex(ContinuousClock.now)
        let limiter = LogRateLimiter(burst: 2, window: .seconds(60)) { clock.withLock { $0 } }
        let (logger, lines) = logger(journal: true, level: LogLevelControl(.info), limiter: limiter)
        for _ in 0..<5 { logger.error("Cannot save positions") }
        logger.error("Other error")
        logger.info("Info is never limited")
        logger.info("Info is never limited")
        logger.info("Info is never limited")
        clock.withLock { $0 += .seconds(61) }
        logger.error("Cannot save positions")

        #expect(
            lines.all == [
                "<3>Cannot save positions",
                "<3>Cannot save positions",
                "<3>Other error",
                "<6>Info is never limited",
                "<6>Info is never limited",
                "<6>Info is never limited",
                "<3>Cannot save positions suppressed=3",
            ])
    }

    @Test func recognisesTheJournalOnlyWhenItIsStandardError() {
        #expect(!JournalLogHandler.isJournalStream(environment: [:]))
        #expect(!JournalLogHandler.isJournalStream(environment: ["JOURNAL_STREAM": "1:1"]))
        #expect(!JournalLogHandler.isJournalStream(environment: ["JOURNAL_STREAM": "garbage"]))
    }
}
