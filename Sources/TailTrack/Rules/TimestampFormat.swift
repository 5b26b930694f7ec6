// STUB: owned by the rules-primitives helper; replaced with the real parser.

/// How a rule's `timestamp: { field, format }` reads the field.
public enum TimestampFormat: Sendable, Equatable {
    /// `2026-11-22T10:00:00Z`, `2026-11-22T10:00:00.123+01:00` (also a space for `T`).
    case rfc3339
    /// Unix seconds, integer or fractional, as a number or a string.
    case unix
    /// Unix milliseconds.
    case unixMilliseconds
    /// A strftime pattern, e.g. nginx's `%d/%b/%Y:%H:%M:%S %z`.
    case strftime(String)

    /// Parses the `format:` key: `rfc3339`, `unix`, `unix_ms`, or a pattern containing `%`.
    /// Throws a ``TimestampFormatError`` naming an unknown format or directive.
    public init(parsing text: String) throws(TimestampFormatError) {
        switch text {
        case "rfc3339": self = .rfc3339
        case "unix": self = .unix
        case "unix_ms": self = .unixMilliseconds
        default:
            throw TimestampFormatError(message: "unknown timestamp format \"\(text)\"")
        }
    }

    /// The instant `value` denotes, in milliseconds since the Unix epoch, or `nil` when it
    /// does not match the format.
    public func parse(_ value: JSONValue) -> Int64? {
        nil
    }
}

/// A `format:` that cannot be used.
public struct TimestampFormatError: Error, Sendable, Equatable {
    public var message: String

    public init(message: String) {
        self.message = message
    }
}
