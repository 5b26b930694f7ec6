/// One mined text template turned into what a user and a rule need: the template as text
/// (`<time> <level> PacketResponder <number> for block <id> terminating`), its named, typed
/// slots, and a PCRE2 pattern with a named group per slot that takes every line of the
/// template.
///
/// The header comes from re-analyzing the template's first example (every line of a template
/// has the same header shape), the content from the mined tokens.
struct TemplatePattern {
    /// A named slot of the pattern.
    struct Slot: Sendable, Equatable {
        var name: String
        /// `timestamp` and `level` for the header's; the content slot's type otherwise.
        var type: String
        var isHeader: Bool
    }

    var text: String
    var regex: String
    var slots: [Slot]

    init(tokens: [TemplateMiner.Token], example: [UInt8]) {
        var analyzer = LineAnalyzer()
        var names = SlotNames()
        var regex = #"^\s*"#
        var text: [String] = []
        var slots: [Slot] = []
        example.withUnsafeBytes { line in
            analyzer.analyze(line)
            let header = analyzer.header
            var index = 0
            var pieces: [String] = []
            while index < header.count {
                let field = header[index]
                switch field.kind {
                case .time where !field.bracketed:
                    var last = index
                    while last + 1 < header.count, header[last + 1].kind == .time, !header[last + 1].bracketed {
                        last += 1
                    }
                    let name = names.claim("time")
                    slots.append(Slot(name: name, type: "timestamp", isHeader: true))
                    let more = String(repeating: #"\s+\S+"#, count: last - index)
                    pieces.append(#"(?<\#(name)>\S+\#(more))"#)
                    text.append("<time>")
                    index = last
                case .time, .level:
                    let name = names.claim(field.kind == .time ? "time" : "level")
                    slots.append(Slot(name: name, type: field.kind == .time ? "timestamp" : "level", isHeader: true))
                    pieces.append(
                        field.bracketed ? #"\[(?<\#(name)>[^\]]*)\]\S*"# : #"(?<\#(name)>\S+)"#)
                    text.append(field.bracketed ? "[<\(name)>]" : "<\(name)>")
                case .pid:
                    pieces.append(#"\d+"#)
                    text.append("<pid>")
                case .bracket:
                    pieces.append(#"\[.*?\]\S*(?=\s|$)"#)
                    text.append("[<thread>]")
                case .component, .host:
                    pieces.append(#"\S+"#)
                    text.append(field.kind == .host ? "<host>" : "<component>:")
                case .separator:
                    let bytes = Array(line[field.start..<field.end])
                    pieces.append(Self.escape(bytes))
                    text.append(String(decoding: bytes, as: UTF8.self))
                }
                index += 1
            }
            var previousWord: [UInt8]?
            for token in tokens {
                switch token {
                case .word(let word):
                    pieces.append(Self.escape(word))
                    text.append(String(decoding: word, as: UTF8.self))
                    previousWord = word
                case .slot(let type, let prefix, let suffix):
                    let name = names.claim(SlotNames.base(prefix: prefix, previousWord: previousWord, type: type))
                    slots.append(Slot(name: name, type: type.description, isHeader: false))
                    let group: String
                    switch type {
                    case .quoted: group = #""(?<\#(name)>(?:[^"\\]|\\.)*)""#
                    case .any: group = #"(?<\#(name)>(?:"(?:[^"\\]|\\.)*"\S*|\S+))"#
                    default: group = "(?<\(name)>\(type.regex))"
                    }
                    pieces.append(Self.escape(prefix) + group + Self.escape(suffix))
                    let shown =
                        String(decoding: prefix, as: UTF8.self) + "<\(type)>" + String(decoding: suffix, as: UTF8.self)
                    text.append(shown)
                    previousWord = nil
                }
            }
            regex += pieces.joined(separator: #"\s+"#) + #"\s*$"#
        }
        self.text = text.joined(separator: " ")
        self.regex = regex
        self.slots = slots
    }

    /// `bytes` as a PCRE2 literal: every ASCII byte other than a letter or digit escaped (always
    /// safe in PCRE2), control bytes as `\xHH`, UTF-8 left as it is.
    static func escape(_ bytes: [UInt8]) -> String {
        var out = ""
        var pending: [UInt8] = []
        func flush() {
            if !pending.isEmpty { out += String(decoding: pending, as: UTF8.self) }
            pending.removeAll()
        }
        for byte in bytes {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x80...0xFF: pending.append(byte)
            case 0x21...0x7E:
                flush()
                out += "\\" + String(UnicodeScalar(byte))
            default:
                flush()
                let hex = String(byte, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        flush()
        return out
    }
}

/// Gives slots distinct PCRE2 group names: the word before the slot (`user 42` → `user`), the
/// key of `key=value`, else the slot's type; `_2`, `_3` … when a name repeats.
struct SlotNames {
    private var used: [String: Int] = [:]

    mutating func claim(_ base: String) -> String {
        let count = used[base, default: 0] + 1
        used[base] = count
        return count == 1 ? base : "\(base)_\(count)"
    }

    /// A name from `key=` in `prefix`, the previous constant word, or the type.
    static func base(prefix: [UInt8], previousWord: [UInt8]?, type: SlotType) -> String {
        if let name = sanitize(prefix) { return name }
        if let previousWord, type != .email, type != .ip, let name = sanitize(previousWord) { return name }
        return type == .any ? "value" : type.description
    }

    /// Lower-case letters, digits and `_` from `bytes`, starting with a letter, at most 24
    /// characters; `nil` when nothing usable is left.
    static func sanitize(_ bytes: [UInt8]) -> String? {
        var out: [UInt8] = []
        for byte in bytes {
            let lower = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
            switch lower {
            case 0x61...0x7A: out.append(lower)
            case 0x30...0x39 where !out.isEmpty: out.append(lower)
            case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
                if !out.isEmpty, out.last != UInt8(ascii: "_") { out.append(UInt8(ascii: "_")) }
            default: break
            }
            if out.count >= 24 { break }
        }
        while out.last == UInt8(ascii: "_") { out.removeLast() }
        guard !out.isEmpty else { return nil }
        return String(decoding: out, as: UTF8.self)
    }
}
