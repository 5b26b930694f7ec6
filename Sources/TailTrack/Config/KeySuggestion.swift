// STUB: owned by the config helper.

/// "Did you mean …" for unknown keys.
public enum KeySuggestion {
    /// The candidate closest to `key` by edit distance, when it is close enough to be a typo.
    public static func closest(to key: String, among candidates: [String]) -> String? {
        nil
    }

    /// `unknown key "flush_intervl" (did you mean "flush_interval"?)`, or without the hint.
    public static func unknownKeyMessage(_ key: String, among candidates: [String]) -> String {
        if let best = closest(to: key, among: candidates) {
            return "unknown key \"\(key)\" (did you mean \"\(best)\"?)"
        }
        return "unknown key \"\(key)\""
    }
}
