/// What a structured (JSON or logfmt) line's template is keyed on: its format, its set of
/// top-level keys, and the values of the few keys that name the event (`msg`, `event`,
/// `level` …), digits in those values read as slots.
public struct StructuredKey: Sendable, Equatable {
    public enum Format: String, Sendable {
        case json
        case logfmt
    }

    /// One keyed value: `words` are its whitespace-separated words, `nil` where a word held a
    /// digit (a slot).
    public struct Value: Sendable, Equatable {
        public var key: String
        public var words: [String?]

        /// The value as a constant, when no word of it is a slot.
        public var constant: String? {
            words.contains(where: { $0 == nil }) ? nil : words.compactMap { $0 }.joined(separator: " ")
        }
    }

    public var format: Format
    /// Top-level keys, sorted.
    public var keys: [String]
    public var values: [Value]
    var hash: UInt64
}

/// Builds ``StructuredKey``s from lines with the rule engine's own parsers, so that what
/// `discover` calls JSON or logfmt is exactly what `parse: json|logfmt` will read.
struct StructuredLineKeyer {
    /// Keys whose values name the kind of line rather than vary with it.
    static let namingKeys: Set<String> = [
        "msg", "message", "event", "level", "lvl", "severity", "type", "action", "event_type", "eventType",
        "category", "logger",
    ]

    /// A cheap test before parsing: the first token is `key=…`.
    func mightBeLogfmt(_ line: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index < line.count, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
        let start = index
        while index < line.count {
            let byte = line[index] | 0x20
            if (byte >= 0x61 && byte <= 0x7A) || line[index] == UInt8(ascii: "_") || line[index] == UInt8(ascii: ".")
                || (index > start && line[index] >= 0x30 && line[index] <= 0x39)
            {
                index += 1
            } else {
                break
            }
        }
        return index > start && index < line.count && line[index] == UInt8(ascii: "=")
    }

    /// The key of `line`, or `nil` when it is not a JSON object or logfmt with at least two
    /// pairs.
    func key(_ line: UnsafeRawBufferPointer) -> StructuredKey? {
        var index = 0
        while index < line.count, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
        let format: StructuredKey.Format
        let parsed: JSONValue?
        if index < line.count, line[index] == UInt8(ascii: "{") {
            format = .json
            parsed = JSONLineParser.parse(line)
        } else {
            format = .logfmt
            parsed = LogfmtParser.parse(line)
        }
        guard case .object(let members)? = parsed else { return nil }
        if format == .logfmt {
            let pairs = members.filter { if case .bool = $0.value { return false } else { return true } }
            guard pairs.count >= 2, pairs.count * 2 > members.count else { return nil }
        }
        var keys = Array(Set(members.map(\.key))).sorted()
        if keys.count > 64 { keys = Array(keys.prefix(64)) }
        var values: [StructuredKey.Value] = []
        for member in members where Self.namingKeys.contains(member.key) {
            guard case .string(let text) = member.value, text.utf8.count <= 200 else { continue }
            guard !values.contains(where: { $0.key == member.key }) else { continue }
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { word -> String? in
                word.utf8.contains(where: { $0 >= 0x30 && $0 <= 0x39 }) ? nil : String(word)
            }
            values.append(StructuredKey.Value(key: member.key, words: words))
        }
        values.sort { $0.key < $1.key }
        var hash = Hash64()
        for byte in format.rawValue.utf8 { hash.add(byte) }
        for key in keys {
            hash.add(0)
            for byte in key.utf8 { hash.add(byte) }
        }
        for value in values {
            hash.add(1)
            for byte in value.key.utf8 { hash.add(byte) }
            for word in value.words {
                hash.add(2)
                for byte in (word ?? "\u{1}").utf8 { hash.add(byte) }
            }
        }
        return StructuredKey(format: format, keys: keys, values: values, hash: hash.value)
    }
}
