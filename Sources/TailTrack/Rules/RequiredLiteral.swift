#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A run of bytes that every match of a regex contains, found by reading the pattern: the
/// rules look for it across a whole chunk with `memmem` and run PCRE2 only on the lines that
/// have it, as grep does. Most lines of a log match no rule, and this way they cost next to
/// nothing.
///
/// The reading is deliberately narrow, and gives up (`nil`) on anything it does not fully
/// understand: only literal characters outside every group, in a pattern with no top-level
/// `|`, no inline options (`(?i)` and friends), no `(*VERB)`, no `(?#…)` and no `\Q…\E`. A character a
/// quantifier can drop (`?`, `*`, `{0,…}`) is left out. Any run it returns is therefore
/// required: a line without it cannot match, so skipping that line changes nothing.
enum RequiredLiteral {
    /// Runs shorter than this are not worth a search of their own.
    static let minimumLength = 3

    /// The longest required run of `pattern`, or `nil` when none is found (or it is shorter
    /// than `minimumLength`; tests ask for shorter runs too).
    static func of(_ pattern: String, minimumLength: Int = minimumLength) -> [UInt8]? {
        let text = Array(pattern.utf8)
        // `\Q…\E` quotes even inside a class, where this reading does not follow it.
        if pattern.contains(#"\Q"#) { return nil }
        var best: [UInt8] = []
        var run: [UInt8] = []
        var depth = 0
        var index = 0

        func endRun() {
            if run.count > best.count { best = run }
            run.removeAll(keepingCapacity: true)
        }

        while index < text.count {
            let byte = text[index]
            switch byte {
            case UInt8(ascii: "\\"):
                guard index + 1 < text.count else { return nil }
                let next = text[index + 1]
                if isAlphanumeric(next) {
                    // A class (`\d`), an assertion (`\b`), a code (`\x41`), a back reference:
                    // nothing literal, and whatever follows its letters is read as new text.
                    if [UInt8(ascii: "Q"), UInt8(ascii: "E"), UInt8(ascii: "c")].contains(next) { return nil }
                    if depth == 0 { endRun() }
                    index += 2
                    while index < text.count, isAlphanumeric(text[index]) { index += 1 }
                    // `\k<name>`, `\g'1'`: a name this reading does not follow. (A `{` after the
                    // letters is read next: a quantifier, or the end of the reading.)
                    if index < text.count, text[index] == UInt8(ascii: "<") || text[index] == UInt8(ascii: "'") {
                        return nil
                    }
                    continue
                }
                if depth == 0 { run.append(next) }
                index += 2
                continue
            case UInt8(ascii: "["):
                if depth == 0 { endRun() }
                guard let end = endOfClass(text, from: index) else { return nil }
                index = end
                continue
            case UInt8(ascii: "("):
                if index + 1 < text.count, text[index + 1] == UInt8(ascii: "*") { return nil }
                if index + 2 < text.count, text[index + 1] == UInt8(ascii: "?"),
                    !"<:=!P'>|".utf8.contains(text[index + 2])
                {
                    return nil
                }
                if depth == 0 { endRun() }
                depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                if depth < 0 { return nil }
            case UInt8(ascii: "|"):
                if depth == 0 { return nil }
            case UInt8(ascii: "?"), UInt8(ascii: "*"):
                if depth == 0 {
                    if !run.isEmpty { run.removeLast() }
                    endRun()
                }
            case UInt8(ascii: "+"):
                if depth == 0 { endRun() }
            case UInt8(ascii: "{"):
                // A quantifier (`{2}`, `{1,3}`, `{,3}`) makes the character before it optional
                // or repeated: leave it out. Any other `{` is beyond this reading.
                var end = index + 1
                while end < text.count,
                    text[end] == UInt8(ascii: ",") || text[end] == UInt8(ascii: " ")
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[end])
                {
                    end += 1
                }
                guard end < text.count, end > index + 1, text[end] == UInt8(ascii: "}") else { return nil }
                if depth == 0 {
                    if !run.isEmpty { run.removeLast() }
                    endRun()
                }
                index = end + 1
                continue
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"):
                if depth == 0 { endRun() }
            default:
                if depth == 0 { run.append(byte) }
            }
            index += 1
        }
        guard depth == 0 else { return nil }
        endRun()
        return best.count >= max(1, minimumLength) ? best : nil
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    /// The index just after the `]` closing the class that opens at `start`, or `nil`.
    private static func endOfClass(_ text: [UInt8], from start: Int) -> Int? {
        var index = start + 1
        if index < text.count, text[index] == UInt8(ascii: "^") { index += 1 }
        // A `]` right at the start is a member, not the end.
        if index < text.count, text[index] == UInt8(ascii: "]") { index += 1 }
        while index < text.count {
            switch text[index] {
            case UInt8(ascii: "\\"):
                index += 2
            case UInt8(ascii: "["):
                // `[:alpha:]` inside a class.
                if index + 1 < text.count, text[index + 1] == UInt8(ascii: ":") {
                    var end = index + 2
                    while end + 1 < text.count, !(text[end] == UInt8(ascii: ":") && text[end + 1] == UInt8(ascii: "]"))
                    {
                        end += 1
                    }
                    guard end + 1 < text.count else { return nil }
                    index = end + 2
                } else {
                    index += 1
                }
            case UInt8(ascii: "]"):
                return index + 1
            default:
                index += 1
            }
        }
        return nil
    }
}

/// Finds a ``RequiredLiteral`` in a buffer: `memchr` for its rarest byte (by a rough table
/// of how common bytes are in log text), then a compare of the whole run around each hit.
struct LiteralFinder: Sendable {
    let literal: [UInt8]
    /// The position in ``literal`` of the byte `memchr` looks for.
    let anchorIndex: Int
    let anchor: UInt8

    init(_ literal: [UInt8]) {
        precondition(!literal.isEmpty)
        self.literal = literal
        var best = 0
        for index in literal.indices where Self.commonness(literal[index]) < Self.commonness(literal[best]) {
            best = index
        }
        anchorIndex = best
        anchor = literal[best]
    }

    /// The start of the first occurrence at or after `start` that ends within `count`.
    func firstOccurrence(in base: UnsafePointer<UInt8>, from start: Int, count: Int) -> Int? {
        let length = literal.count
        // The anchor of an occurrence that fits lies in [start + anchorIndex, limit).
        let limit = count - (length - 1 - anchorIndex)
        var position = start + anchorIndex
        return literal.withUnsafeBytes { buffer -> Int? in
            guard let needle = buffer.baseAddress else { return nil }
            while position < limit {
                guard let hit = memchr(base + position, Int32(anchor), limit - position) else { return nil }
                let found = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
                let candidate = found - anchorIndex
                if memcmp(base + candidate, needle, length) == 0 { return candidate }
                position = found + 1
            }
            return nil
        }
    }

    /// How often `byte` turns up in log lines, roughly (higher is more often).
    private static func commonness(_ byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: " "): 100
        case UInt8(ascii: "e"), UInt8(ascii: "t"), UInt8(ascii: "a"), UInt8(ascii: "o"), UInt8(ascii: "i"),
            UInt8(ascii: "n"), UInt8(ascii: "s"), UInt8(ascii: "r"):
            80
        case UInt8(ascii: "0")...UInt8(ascii: "9"): 70
        case UInt8(ascii: "a")...UInt8(ascii: "z"): 60
        case UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "-"),
            UInt8(ascii: ","), UInt8(ascii: "\""):
            40
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): 30
        case 0x80...: 10
        default: 20
        }
    }
}

/// Tells which lines of a chunk contain at least one of the rules' required literals,
/// searching the chunk's bytes forward once per literal rather than line by line.
struct LineScreen {
    let finders: [LiteralFinder]
    let base: UnsafePointer<UInt8>
    let count: Int
    /// Per literal: the start of its next occurrence at or after the last line asked about
    /// (`Int.max` when there is none; -1 before the first search).
    var next: [Int]

    init?(_ finders: [LiteralFinder], in buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress else { return nil }
        self.finders = finders
        self.base = base.assumingMemoryBound(to: UInt8.self)
        self.count = buffer.count
        next = Array(repeating: -1, count: finders.count)
    }

    /// Whether the bytes `start..<end` contain any of the literals. Lines must be asked
    /// about in order.
    mutating func anyLiteral(from start: Int, to end: Int) -> Bool {
        var found = false
        for index in finders.indices {
            if next[index] < start {
                next[index] = finders[index].firstOccurrence(in: base, from: start, count: count) ?? Int.max
            }
            if next[index] != Int.max, next[index] + finders[index].literal.count <= end { found = true }
        }
        return found
    }
}
