/// Writes the rules file `discover --rules-out` makes: one rule per template, each with a
/// `match:` (or `parse:` + `where:`) that takes its template's lines, a complete `event`
/// operation skeleton (so that `tailtrack check` passes as written) with `# TODO` notes where
/// the user must decide, and a `tests:` case built from the template's first example.
///
/// Rules are ordered most specific first (most constant words): the rule engine stops at the
/// first rule that matches, so a general pattern never takes the lines of a specific one.
public enum StarterRules {
    /// The YAML text of the rules for `templates`, offered to `source` when given.
    public static func yaml(for templates: [DiscoveredTemplate], source: String?, origin: String) -> String {
        var out = """
            # Starter rules written by `tailtrack discover` from \(origin).
            # One rule per line template, most specific first (the first matching rule wins).
            # Each sends an `event` named after the template's words: change the action, the name,
            # the identifier (see the TODO notes) and the attributes to what Customer.io should get,
            # and delete the rules of lines you do not want to send.
            # Then: tailtrack check --config FILE, tailtrack test --config FILE, tailtrack dry-run …
            rules:

            """
        var used: Set<String> = []
        let ordered = templates.enumerated().sorted { left, right in
            if left.element.specificity != right.element.specificity {
                return left.element.specificity > right.element.specificity
            }
            return left.offset < right.offset
        }.map(\.element)
        for template in ordered {
            var name = String(template.eventName.prefix(48))
            if used.contains(name) { name += "_\(template.id)" }
            used.insert(name)
            out += rule(template, name: name, source: source)
        }
        return out
    }

    private static func rule(_ template: DiscoveredTemplate, name: String, source: String?) -> String {
        var lines: [String] = []
        lines.append("  # template \(template.id): \(template.count) lines: \(oneLine(template.text, limit: 160))")
        lines.append("  - name: \(name)")
        if let source { lines.append("    sources: [\(quote(source))]") }
        switch template.matcher {
        case .regex(let pattern):
            lines.append("    match: \(quote(pattern))")
        case .structured(let format, let conditions):
            lines.append("    parse: \(format.rawValue)")
            if !conditions.isEmpty {
                lines.append("    where:")
                for condition in conditions { lines.append("      \(condition.field): \(condition.condition)") }
            }
        }
        lines.append("    operation:")
        lines.append("      action: event")
        var expectedIdentifier: String?
        if let identifier = template.identifier {
            lines.append("      identifiers: { \(identifier.key): \"{{\(identifier.field)}}\" }")
            if let value = template.exampleValues[identifier.field] {
                expectedIdentifier = "{ \(identifier.key): \(quote(value)) }"
            }
        } else if let first = template.slots.first(where: {
            $0.type != "timestamp" && $0.type != "level" && $0.name != template.timestamp?.field
                && template.exampleValues[$0.name] != nil
        }) {
            lines.append(
                "      # TODO: no slot looks like a person id or email; pick the one that identifies the person.")
            lines.append("      identifiers: { id: \"{{\(first.name)}}\" }")
            if let value = template.exampleValues[first.name] { expectedIdentifier = "{ id: \(quote(value)) }" }
        } else {
            lines.append(
                "      # TODO: these lines hold no value that could identify a person: set one, or delete the rule.")
            lines.append("      identifiers: { id: \"REPLACE_ME\" }")
        }
        lines.append("      name: \(quote(template.eventName))")
        if let timestamp = template.timestamp {
            lines.append("      timestamp: { field: \(timestamp.field), format: \(quote(timestamp.format)) }")
        }
        let attributes = template.slots.filter { slot in
            slot.name != template.identifier?.field && slot.name != template.timestamp?.field
                && slot.type != "level" && template.exampleValues[slot.name] != nil
        }.prefix(20)
        if !attributes.isEmpty {
            lines.append("      attributes:")
            for slot in attributes {
                lines.append("        \(slot.name.replacingAll(".", with: "_")): \"{{\(slot.name)}}\"")
            }
        }
        lines.append("    tests:")
        lines.append("      - line: \(quote(template.examples.first ?? ""))")
        var expect = "action: event, name: \(quote(template.eventName))"
        if let expectedIdentifier { expect += ", identifiers: \(expectedIdentifier)" }
        lines.append("        expect: { \(expect) }")
        return lines.joined(separator: "\n") + "\n\n"
    }

    private static func oneLine(_ text: String, limit: Int) -> String {
        let flat = String(text.map { $0.isNewline ? " " : $0 })
        return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
    }

    /// `text` as a YAML scalar: single-quoted, or double-quoted with escapes when it holds a
    /// control character or a character outside the Basic Multilingual Plane's printable set.
    static func quote(_ text: String) -> String {
        let needsEscapes = text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
        guard needsEscapes else {
            return "'" + text.replacingAll("'", with: "''") + "'"
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension String {
    /// A copy with every `target` replaced by `replacement` (no Foundation in the library's
    /// hot paths).
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}
