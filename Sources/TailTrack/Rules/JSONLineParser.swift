// STUB: owned by the rules-primitives helper; replaced with the real parser.

/// Parses one log line that holds a JSON object.
public enum JSONLineParser {
    /// The object in `bytes`, or `nil` when the line is not exactly one JSON object
    /// (surrounding whitespace allowed). Numbers that are integral and fit `Int64` become
    /// `.int`, others `.double`; strings are unescaped (`\uXXXX` and surrogate pairs included);
    /// invalid UTF-8 inside strings becomes U+FFFD.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> JSONValue? {
        nil
    }
}
