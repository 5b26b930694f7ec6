/// How a rule finds its fields in a line.
enum LineMatcher: Sendable {
    /// `match:` a PCRE2 pattern; named groups are the fields.
    case regex(CompiledRegex)
    /// `parse: json`: the line is a JSON object; fields by dotted path.
    case json
    /// `parse: logfmt`: `key=value` pairs.
    case logfmt
}

/// One `where:` condition on a field.
struct FieldCondition: Sendable {
    /// What the field's value must be.
    enum Test: Sendable {
        /// Equal to the value (numbers compare as numbers, everything else as text).
        case equals(JSONValue)
        /// Equal to one of the values.
        case oneOf([JSONValue])
        /// The field's text contains a match of the pattern.
        case regex(CompiledRegex)
        /// The field is present (`true`) or absent (`false`).
        case exists(Bool)
    }

    var field: FieldReference
    var test: Test

    func holds(in line: borrowing LineContext, regexData: RegexMatchData) -> Bool {
        let value = line.value(of: field)
        switch test {
        case .exists(let wanted):
            return (value != nil && value != .null) == wanted
        case .equals(let expected):
            guard let value else { return false }
            return Self.loosyEquals(value, expected)
        case .oneOf(let candidates):
            guard let value else { return false }
            return candidates.contains { Self.loosyEquals(value, $0) }
        case .regex(let pattern):
            guard let value else { return false }
            return pattern.matches(value.templateText, using: regexData)
        }
    }

    /// `200` equals `"200"`: logfmt and regex fields are always text, YAML values often not.
    static func loosyEquals(_ value: JSONValue, _ expected: JSONValue) -> Bool {
        switch (value, expected) {
        case (.int(let a), .int(let b)): return a == b
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Double(a) == b
        case (.double(let a), .double(let b)): return a == b
        default: return value.templateText == expected.templateText
        }
    }
}

/// One `tests:` case of a rule.
public struct RuleTestCase: Sendable {
    /// What the case expects.
    public enum Expectation: Sendable {
        /// The rule produces an operation containing at least these keys and values.
        case operation(JSONValue)
        /// The rule does not take the line.
        case noMatch
        /// The rule takes the line but the operation is rejected with a reason containing this text.
        case rejected(String)
    }

    public var line: String
    public var expectation: Expectation
    /// The source the line is offered as; default: the rule's first source.
    public var source: String?
    public var location: SourceLocation
}

/// A compiled rule: how to recognise a line and which operation to make of it.
public struct Rule: Sendable {
    public let name: String
    public let location: SourceLocation
    /// The sources the rule applies to; `nil` for all.
    public let sources: Set<String>?
    /// Whether later rules see a line this rule took (`continue: true`).
    public let continues: Bool
    public let tests: [RuleTestCase]
    let matcher: LineMatcher
    let conditions: [FieldCondition]
    let operation: OperationTemplate
    /// The operation compiled to bytes, when the template's shape allows (see
    /// ``OperationEncoder``); `nil` builds every operation with ``operation``.
    let encoder: OperationEncoder?

    /// The number of regex groups the rule needs room for when matching.
    var captureCount: Int {
        var count = 0
        if case .regex(let regex) = matcher { count = regex.captureCount }
        return count
    }
}
