/// "Did you mean …" for unknown keys.
///
/// A key is taken for a typo of a candidate when their Damerau–Levenshtein distance (insertions,
/// deletions, substitutions and swaps of two neighbours each cost 1) is at most a third of the
/// key's length, and at least 1.
public enum KeySuggestion {
    /// The candidate closest to `key` by edit distance, when it is close enough to be a typo.
    /// Ties go to the candidate listed first.
    public static func closest(to key: String, among candidates: [String]) -> String? {
        let typed = Array(key.unicodeScalars)
        let allowed = max(1, typed.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates where candidate != key {
            let distance = editDistance(typed, Array(candidate.unicodeScalars))
            guard distance <= allowed else { continue }
            if best == nil || distance < best?.distance ?? Int.max {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// `unknown key "flush_intervl" (did you mean "flush_interval"?)`, or without the hint.
    public static func unknownKeyMessage(_ key: String, among candidates: [String]) -> String {
        if let best = closest(to: key, among: candidates) {
            return "unknown key \"\(key)\" (did you mean \"\(best)\"?)"
        }
        return "unknown key \"\(key)\""
    }

    /// Optimal-string-alignment distance between `a` and `b`.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let width = b.count + 1
        // Three rows: two back (for swaps), one back, and the current one.
        var twoBack = [Int](repeating: 0, count: width)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: width)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var distance = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    distance = min(distance, twoBack[j - 2] + 1)
                }
                current[j] = distance
            }
            (twoBack, previous, current) = (previous, current, twoBack)
        }
        return previous[b.count]
    }
}
