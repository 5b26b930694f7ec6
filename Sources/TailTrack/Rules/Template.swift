/// A string with `{{field | filter}}` expressions, compiled once per rule.
///
/// A value that is exactly one expression keeps the type of what it yields
/// (`"{{amount | float}}"` → a JSON number, a JSON field's number stays a number); a value
/// mixing text and expressions is a string.
public struct Template: Sendable {
    /// Literal text, or one `{{field | filters}}` expression.
    enum Part: Sendable {
        case literal(String)
        case expression(FieldReference, [TemplateFilter])
    }

    let parts: [Part]
    /// The text as written, for messages.
    public let source: String

    /// Whether the template is one expression and nothing else (keeps the value's type).
    var isSingleExpression: Bool {
        if parts.count == 1, case .expression = parts[0] { return true }
        return false
    }

    /// The constant text, when the template has no expression.
    var constantText: String? {
        if parts.isEmpty { return "" }
        if parts.count == 1, case .literal(let text) = parts[0] { return text }
        return nil
    }

    /// Compiles `text`, resolving field names with `resolve` (which throws the rule's own
    /// message for an unknown name). Throws ``TemplateSyntaxError`` for bad syntax.
    init(
        _ text: String,
        resolve: (String) throws(TemplateSyntaxError) -> FieldReference
    ) throws(TemplateSyntaxError) {
        source = text
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            if open.lowerBound > rest.startIndex {
                parts.append(.literal(String(rest[rest.startIndex..<open.lowerBound])))
            }
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw TemplateSyntaxError(message: "\"{{\" without a closing \"}}\" in \"\(text)\"")
            }
            let body = rest[open.upperBound..<close.lowerBound]
            parts.append(try Self.expression(body, in: text, resolve: resolve))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
    }

    private static func expression(
        _ body: Substring,
        in text: String,
        resolve: (String) throws(TemplateSyntaxError) -> FieldReference
    ) throws(TemplateSyntaxError) -> Part {
        let pieces = splitPipes(body)
        let name = pieces[0].trimmingSpaces
        guard !name.isEmpty else {
            throw TemplateSyntaxError(message: "empty \"{{ }}\" in \"\(text)\"")
        }
        let reference = try resolve(name)
        var filters: [TemplateFilter] = []
        for piece in pieces.dropFirst() {
            filters.append(try TemplateFilter(parsing: piece.trimmingSpaces))
        }
        return .expression(reference, filters)
    }

    /// Splits at `|` outside double-quoted filter arguments.
    private static func splitPipes(_ body: Substring) -> [Substring] {
        var pieces: [Substring] = []
        var start = body.startIndex
        var inQuotes = false
        var index = body.startIndex
        while index < body.endIndex {
            let character = body[index]
            if character == "\"" {
                inQuotes.toggle()
            } else if character == "|", !inQuotes {
                pieces.append(body[start..<index])
                start = body.index(after: index)
            }
            index = body.index(after: index)
        }
        pieces.append(body[start...])
        return pieces
    }

    /// Renders the template for one line. `nil` means "no value" (a single expression whose
    /// field is missing and has no default): the key that holds it is left out.
    func render(_ line: borrowing LineContext) throws(TemplateValueError) -> JSONValue? {
        if parts.count == 1 {
            switch parts[0] {
            case .literal(let text):
                return .string(text)
            case .expression(let reference, let filters):
                return try TemplateFilter.apply(filters, to: line.value(of: reference), field: reference)
            }
        }
        var text = ""
        for part in parts {
            switch part {
            case .literal(let literal):
                text += literal
            case .expression(let reference, let filters):
                if let value = try TemplateFilter.apply(filters, to: line.value(of: reference), field: reference) {
                    text += value.templateText
                }
            }
        }
        return .string(text)
    }
}

/// What a template expression names.
enum FieldReference: Sendable, CustomStringConvertible {
    /// A named group of the rule's regex, by number.
    case group(Int, name: String)
    /// A dotted path into the parsed JSON or logfmt fields.
    case path(String)
    /// `_line`: the whole line.
    case line
    /// `_path`: the file the line came from.
    case filePath
    /// `_source`: the source's name.
    case source
    /// A field the input provides beyond the line (`_journal.PRIORITY`, `_k8s.pod`,
    /// `_container.stream`), by its full name: see ``LineFields``.
    case input(String)

    var description: String {
        switch self {
        case .group(_, let name): return name
        case .path(let path): return path
        case .line: return "_line"
        case .filePath: return "_path"
        case .source: return "_source"
        case .input(let name): return name
        }
    }
}

/// A filter after `|`: `int`, `float`, `bool`, `lower`, `upper`, `trim`, `default("x")`.
enum TemplateFilter: Sendable, Equatable {
    case int
    case float
    case bool
    case lower
    case upper
    case trim
    case string
    case defaultValue(JSONValue)

    static let names = ["int", "float", "bool", "lower", "upper", "trim", "string", "default"]

    init(parsing text: String) throws(TemplateSyntaxError) {
        switch text {
        case "int": self = .int
        case "float": self = .float
        case "bool": self = .bool
        case "lower": self = .lower
        case "upper": self = .upper
        case "trim": self = .trim
        case "string": self = .string
        default:
            guard text.hasPrefix("default(") && text.hasSuffix(")") else {
                let hint = KeySuggestion.closest(to: text, among: Self.names).map { " (did you mean \"\($0)\"?)" } ?? ""
                throw TemplateSyntaxError(
                    message:
                        "unknown filter \"\(text)\"\(hint); filters are int, float, bool, lower, upper, trim, string, default(\"…\")"
                )
            }
            let argument = text.dropFirst("default(".count).dropLast().trimmingSpaces
            self = .defaultValue(try Self.literal(argument))
        }
    }

    /// A `default(...)` argument: a double-quoted string, a number, `true`, `false` or `null`.
    private static func literal(_ text: String) throws(TemplateSyntaxError) -> JSONValue {
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") {
            var result = ""
            var escaped = false
            for character in text.dropFirst().dropLast() {
                if escaped {
                    result.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else {
                    result.append(character)
                }
            }
            return .string(result)
        }
        if text.count >= 2, text.hasPrefix("'"), text.hasSuffix("'") {
            return .string(String(text.dropFirst().dropLast()))
        }
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default: break
        }
        if let number = Int64(text) { return .int(number) }
        if let number = Double(text) { return .double(number) }
        throw TemplateSyntaxError(
            message: "default(\(text)): the argument must be a quoted string, a number, true, false or null")
    }

    static func apply(
        _ filters: [TemplateFilter],
        to input: JSONValue?,
        field: FieldReference
    ) throws(TemplateValueError) -> JSONValue? {
        var value = input
        for filter in filters {
            value = try filter.apply(to: value, field: field)
        }
        return value
    }

    private func apply(to value: JSONValue?, field: FieldReference) throws(TemplateValueError) -> JSONValue? {
        if case .defaultValue(let fallback) = self {
            switch value {
            case nil, .null?: return fallback
            case .string(let text)? where text.isEmpty: return fallback
            default: return value
            }
        }
        guard let value else { return nil }
        if case .null = value { return value }
        switch self {
        case .int:
            switch value {
            case .int: return value
            case .double(let number):
                guard number.isFinite, abs(number) < 9.2e18 else { throw failure(value, field, "an integer") }
                return .int(Int64(number.rounded(.towardZero)))
            case .bool(let flag): return .int(flag ? 1 : 0)
            case .string(let text):
                let trimmed = text.trimmingSpaces
                if let number = Int64(trimmed) { return .int(number) }
                if let number = Double(trimmed), number.isFinite, abs(number) < 9.2e18 {
                    return .int(Int64(number.rounded(.towardZero)))
                }
                throw failure(value, field, "an integer")
            default: throw failure(value, field, "an integer")
            }
        case .float:
            switch value {
            case .double: return value
            case .int(let number): return .double(Double(number))
            case .string(let text):
                guard let number = Double(text.trimmingSpaces), number.isFinite else {
                    throw failure(value, field, "a number")
                }
                return .double(number)
            default: throw failure(value, field, "a number")
            }
        case .bool:
            switch value {
            case .bool: return value
            case .int(let number): return .bool(number != 0)
            case .double(let number): return .bool(number != 0)
            case .string(let text):
                switch text.trimmingSpaces.lowercased() {
                case "true", "yes", "y", "on", "1", "t": return .bool(true)
                case "false", "no", "n", "off", "0", "f", "": return .bool(false)
                default: throw failure(value, field, "a boolean")
                }
            default: throw failure(value, field, "a boolean")
            }
        case .lower: return .string(value.templateText.lowercased())
        case .upper: return .string(value.templateText.uppercased())
        case .trim: return .string(value.templateText.trimmingSpaces)
        case .string: return .string(value.templateText)
        case .defaultValue: return value
        }
    }

    private func failure(_ value: JSONValue, _ field: FieldReference, _ expected: String) -> TemplateValueError {
        var shown = value.templateText
        if shown.utf8.count > 64 { shown = String(shown.prefix(60)) + "…" }
        return TemplateValueError(message: "field \(field): \"\(shown)\" is not \(expected)")
    }
}

/// A template that cannot be compiled.
struct TemplateSyntaxError: Error, Sendable {
    var message: String
}

/// A template that cannot be rendered for one line (a filter refused the value).
struct TemplateValueError: Error, Sendable {
    var message: String
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, `\r` and `\n`.
    var trimmingSpaces: String {
        var start = startIndex
        var end = endIndex
        while start < end, self[start].isTemplateSpace { start = index(after: start) }
        while end > start, self[index(before: end)].isTemplateSpace { end = index(before: end) }
        return String(self[start..<end])
    }
}

extension Character {
    fileprivate var isTemplateSpace: Bool {
        self == " " || self == "\t" || self == "\r" || self == "\n" || self == "\r\n"
    }
}
