// STUB: owned by the rules-primitives helper; replaced with the real parser.

/// Parses one logfmt line (`level=info msg="user logged in" user_id=7`).
public enum LogfmtParser {
    /// The pairs of `bytes` as an object of strings, in order; a bare key (`debug`) maps to
    /// `true`. `nil` when the line holds no pair at all.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> JSONValue? {
        nil
    }
}
