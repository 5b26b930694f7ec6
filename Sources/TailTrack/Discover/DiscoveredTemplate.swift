/// One template as `discover` reports it: text, count, examples, typed slots, and the
/// starter rule's parts (pattern or structured condition, event name, identifier, timestamp).
public struct DiscoveredTemplate: Sendable {
    /// A named slot and its inferred type.
    public struct Slot: Sendable, Equatable {
        public var name: String
        public var type: String
    }

    /// How the starter rule picks the template's lines.
    public enum Matcher: Sendable, Equatable {
        /// `match:` with this PCRE2 pattern.
        case regex(String)
        /// `parse: json|logfmt` with these `where:` conditions, as YAML flow text per field.
        case structured(StructuredKey.Format, [(field: String, condition: String)])

        public static func == (lhs: Matcher, rhs: Matcher) -> Bool {
            switch (lhs, rhs) {
            case (.regex(let a), .regex(let b)): return a == b
            case (.structured(let f, let a), .structured(let g, let b)):
                return f == g && a.map(\.field) == b.map(\.field) && a.map(\.condition) == b.map(\.condition)
            default: return false
            }
        }
    }

    /// As ``TemplateMiner`` numbers it (and `--assign` prints it).
    public var id: Int
    public var text: String
    public var count: Int
    /// `count` over all lines read.
    public var share: Double
    public var examples: [String]
    public var slots: [Slot]
    public var matcher: Matcher
    /// Constant words, for the event's and the rule's name.
    public var eventName: String
    /// The field the identifier comes from and the identifier key (`id` or `email`); `nil`
    /// when no slot looks like one.
    public var identifier: (field: String, key: String)?
    /// The field holding the time, with its detected format.
    public var timestamp: (field: String, format: String)?
    /// The values the rule reads from the first example (field → text), for its test.
    public var exampleValues: [String: String]
    /// Constant tokens (then typed slots) in the template: more goes first in the rules file,
    /// so that a more general pattern never shadows a more specific one.
    var specificity: Int
}

extension DiscoveredTemplate {
    /// Builds the report of mined template `template` out of `total` lines.
    init(_ template: TemplateMiner.Template, total: Int) {
        if let key = template.structured {
            self.init(structured: key, template: template, total: total)
        } else {
            self.init(text: template, total: total)
        }
    }

    private init(text template: TemplateMiner.Template, total: Int) {
        id = template.id
        count = template.count
        share = total > 0 ? Double(template.count) / Double(total) : 0
        examples = template.examples.map { String(decoding: $0, as: UTF8.self) }
        exampleValues = [:]
        identifier = nil
        timestamp = nil
        let pattern = TemplatePattern(tokens: template.tokens, example: template.examples.first ?? [])
        text = pattern.text
        slots = pattern.slots.map { Slot(name: $0.name, type: $0.type) }
        matcher = .regex(pattern.regex)
        var words: [String] = []
        for token in template.tokens {
            if case .word(let word) = token, let clean = SlotNames.sanitize(word), clean.count > 1,
                word.allSatisfy({ $0 >= 0x41 })
            {
                words.append(clean)
            }
        }
        // Constant tokens first, then typed slots (narrower than `any`).
        specificity = template.tokens.reduce(0) { total, token in
            switch token {
            case .word: return total + 1_000
            case .slot(let type, _, _): return total + (type == .any ? 0 : 1)
            }
        }
        eventName = words.isEmpty ? "template_\(template.id)" : words.prefix(4).joined(separator: "_")
        // The values of the first example, read with the pattern itself.
        if let regex = try? CompiledRegex(pattern.regex), let example = template.examples.first {
            let data = RegexMatchData(groups: pattern.slots.count)
            example.withUnsafeBytes { line in
                guard regex.matches(line, using: data) else { return }
                for (index, slot) in pattern.slots.enumerated() {
                    guard let range = data.range(ofGroup: index + 1) else { continue }
                    exampleValues[slot.name] = String(decoding: line[range], as: UTF8.self)
                }
            }
        }
        if let time = pattern.slots.first(where: { $0.type == "timestamp" && $0.isHeader }),
            let value = exampleValues[time.name], let format = TimestampGuess.format(for: value)
        {
            timestamp = (time.name, format)
        }
        identifier = Self.identifier(among: pattern.slots.filter { !$0.isHeader }.map { ($0.name, $0.type) })
    }

    private init(structured key: StructuredKey, template: TemplateMiner.Template, total: Int) {
        id = template.id
        count = template.count
        share = total > 0 ? Double(template.count) / Double(total) : 0
        examples = template.examples.map { String(decoding: $0, as: UTF8.self) }
        exampleValues = [:]
        identifier = nil
        timestamp = nil
        var conditions: [(field: String, condition: String)] = []
        var words: [String] = []
        var textParts = ["{\(key.format.rawValue)}"]
        for value in key.values {
            if let constant = value.constant {
                conditions.append((value.key, StarterRules.quote(constant)))
                textParts.append("\(value.key)=\(StarterRules.quote(constant))")
            } else {
                let regex =
                    "^"
                    + value.words.map { $0.map { TemplatePattern.escape(Array($0.utf8)) } ?? #"\S*\d\S*"# }
                    .joined(separator: " ") + "$"
                conditions.append((value.key, "{ regex: \(StarterRules.quote(regex)) }"))
                textParts.append("\(value.key)=\"" + value.words.map { $0 ?? "<*>" }.joined(separator: " ") + "\"")
            }
            if ["msg", "message", "event", "event_type", "eventType", "action", "type"].contains(value.key) {
                words += value.words.compactMap { $0.flatMap { SlotNames.sanitize(Array($0.utf8)) } }
            }
        }
        let named = Set(key.values.map(\.key))
        for field in key.keys where !named.contains(field) && Self.isPlainKey(field) {
            conditions.append((field, "{ exists: true }"))
        }
        textParts.append("keys: " + key.keys.joined(separator: ","))
        text = textParts.joined(separator: " ")
        slots = key.keys.filter { !named.contains($0) }.map { Slot(name: $0, type: "field") }
        matcher = .structured(key.format, conditions)
        specificity = conditions.count
        eventName = words.isEmpty ? "template_\(template.id)" : words.prefix(4).joined(separator: "_")
        var fields: [String] = []
        if let example = template.examples.first {
            let parsed = example.withUnsafeBytes {
                key.format == .json ? JSONLineParser.parse($0) : LogfmtParser.parse($0)
            }
            if case .object(let members)? = parsed {
                for member in members where Self.isPlainKey(member.key) {
                    switch member.value {
                    case .array, .null: continue
                    case .object(let inner):
                        // One level down: `user.id`, `user.email`.
                        for field in inner where Self.isPlainKey(field.key) {
                            switch field.value {
                            case .object, .array, .null: continue
                            default:
                                let path = member.key + "." + field.key
                                exampleValues[path] = field.value.templateText
                                fields.append(path)
                            }
                        }
                    default:
                        exampleValues[member.key] = member.value.templateText
                        fields.append(member.key)
                    }
                }
            }
        }
        for field in ["ts", "time", "timestamp", "@timestamp", "datetime", "date"] {
            if let value = exampleValues[field], key.keys.contains(field),
                let format = TimestampGuess.format(for: value)
            {
                timestamp = (field, format)
                break
            }
        }
        // The fields the first example holds, one level into objects, less the named ones.
        slots = fields.filter { !named.contains($0) }.map { Slot(name: $0, type: "field") }
        identifier = Self.identifier(
            among: slots.filter { $0.name != timestamp?.field }.map {
                ($0.name, exampleValues[$0.name] == nil ? "" : "field")
            })
    }

    /// A key a `where:` or `{{…}}` can name as it is (no dots, which would read as a path).
    private static func isPlainKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 40
            && key.utf8.allSatisfy {
                ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F
            }
            && !(key.utf8.first.map { $0 >= 0x30 && $0 <= 0x39 } ?? true)
    }

    /// The slot that most looks like a person's identifier: an email, else a name ending in
    /// `id` or naming a user, customer or account.
    private static func identifier(among slots: [(name: String, type: String)]) -> (field: String, key: String)? {
        if let email = slots.first(where: {
            $0.type == "email" || $0.name.hasPrefix("email") || $0.name.hasSuffix(".email")
        }) {
            return (email.name, "email")
        }
        for hint in ["user_id", "userid", "uid", "customer", "user", "account", "member", "person"] {
            if let slot = slots.first(where: { $0.name.hasPrefix(hint) && !$0.type.isEmpty }) {
                return (slot.name, "id")
            }
        }
        if let slot = slots.first(where: { ($0.name.hasSuffix("_id") || $0.name == "id") && !$0.type.isEmpty }) {
            return (slot.name, "id")
        }
        return nil
    }
}
