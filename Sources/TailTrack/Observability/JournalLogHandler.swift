import Glibc
import Logging
import Synchronization

/// The log level every ``JournalLogHandler`` of a process reads, so that a reload (SIGHUP)
/// can change it for loggers already handed out.
public final class LogLevelControl: Sendable {
    private let level: Mutex<Logger.Level>

    public init(_ level: Logger.Level) {
        self.level = Mutex(level)
    }

    /// The level messages must reach to be written.
    public var current: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}

/// Stops the same error or warning from flooding the journal: past `burst` copies of one
/// message within `window`, the rest are counted and reported once when the window ends.
public final class LogRateLimiter: Sendable {
    /// What to do with one message.
    public enum Decision: Equatable, Sendable {
        /// Write it.
        case write
        /// Write it, noting that `suppressed` copies were dropped in the window before.
        case writeAfterSuppressing(Int)
        /// Drop it (counted).
        case suppress
    }

    private struct Window {
        var start: ContinuousClock.Instant
        var count: Int
        var suppressed: Int
    }

    private let burst: Int
    private let window: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let windows = Mutex<[String: Window]>([:])
    /// Distinct messages remembered at most; message texts are constant, so this is plenty.
    private let capacity = 256

    public init(
        burst: Int = 5, window: Duration = .seconds(60),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.burst = burst
        self.window = window
        self.now = now
    }

    /// Decides for one message, keyed by its constant text.
    public func decide(_ message: String) -> Decision {
        let instant = now()
        return windows.withLock { windows in
            guard var entry = windows[message] else {
                if windows.count >= capacity { windows.removeAll(keepingCapacity: true) }
                windows[message] = Window(start: instant, count: 1, suppressed: 0)
                return .write
            }
            if entry.start.duration(to: instant) >= window {
                let suppressed = entry.suppressed
                windows[message] = Window(start: instant, count: 1, suppressed: 0)
                return suppressed > 0 ? .writeAfterSuppressing(suppressed) : .write
            }
            entry.count += 1
            if entry.count > burst {
                entry.suppressed += 1
                windows[message] = entry
                return .suppress
            }
            windows[message] = entry
            return .write
        }
    }
}

/// A log handler for a daemon under systemd: one line per message on standard error, with
/// the `<N>` syslog priority prefix journald understands when stderr is the journal
/// (`$JOURNAL_STREAM` names stderr's device and inode), and metadata as `key=value`.
///
/// Warnings and errors repeated within a minute are rate-limited (see ``LogRateLimiter``).
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let control: LogLevelControl
    private let label: String
    private let journal: Bool
    private let limiter: LogRateLimiter?
    private let sink: @Sendable (String) -> Void

    /// - Parameters:
    ///   - journal: whether to prefix `<N>` priorities (see ``isJournalStream(environment:)``).
    ///   - limiter: rate limits warnings and worse; `nil` writes everything.
    ///   - sink: where finished lines go; standard error by default.
    public init(
        label: String,
        control: LogLevelControl,
        journal: Bool,
        limiter: LogRateLimiter? = LogRateLimiter(),
        sink: @escaping @Sendable (String) -> Void = JournalLogHandler.writeToStandardError
    ) {
        self.label = label
        self.control = control
        self.journal = journal
        self.limiter = limiter
        self.sink = sink
    }

    public var logLevel: Logger.Level {
        get { control.current }
        set { control.current = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let text = event.message.description
        var suppressedBefore = 0
        if event.level >= .warning, let limiter {
            switch limiter.decide(text) {
            case .write: break
            case .writeAfterSuppressing(let count): suppressedBefore = count
            case .suppress: return
            }
        }
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if suppressedBefore > 0 { merged["suppressed"] = "\(suppressedBefore)" }
        sink(Self.format(level: event.level, message: text, metadata: merged, journal: journal, label: label))
    }

    /// One line: `<6>Message key=value key="two words"` for the journal,
    /// `info tailtrack: Message key=value` otherwise. Keys are sorted; newlines are escaped.
    public static func format(
        level: Logger.Level, message: String, metadata: Logger.Metadata, journal: Bool, label: String
    ) -> String {
        var line = journal ? "<\(syslogPriority(level))>" : "\(level) \(label): "
        line += escaped(message, quoting: false)
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            line += " \(key)=\(escaped("\(value)", quoting: true))"
        }
        return line
    }

    /// syslog priorities as journald reads them from a `<N>` prefix.
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// Whether standard error is the journal: `$JOURNAL_STREAM` is `DEVICE:INODE` of the stream
    /// systemd connected, and it must be stderr itself (not inherited by a child whose stderr
    /// was redirected).
    public static func isJournalStream(environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    /// Writes a line and its newline to standard error.
    @Sendable public static func writeToStandardError(_ line: String) {
        var copy = line + "\n"
        copy.withUTF8 { bytes in
            guard var base = bytes.baseAddress else { return }
            var remaining = bytes.count
            while remaining > 0 {
                let written = write(STDERR_FILENO, base, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                base += written
                remaining -= written
            }
        }
    }

    private static func escaped(_ text: String, quoting: Bool) -> String {
        let needsQuotes = quoting && (text.isEmpty || text.contains { $0 == " " || $0 == "\"" || $0 == "=" })
        var result = needsQuotes ? "\"" : ""
        for character in text {
            switch character {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\"" where needsQuotes: result += "\\\""
            case "\\" where needsQuotes: result += "\\\\"
            default: result.append(character)
            }
        }
        if needsQuotes { result += "\"" }
        return result
    }
}
