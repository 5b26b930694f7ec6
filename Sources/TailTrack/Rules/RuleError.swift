/// A rule that cannot be used: which file and line, which rule, and what is wrong.
///
/// `description` reads as one line:
/// `rules/shop.yml:14: rule "purchase": match: invalid regex at offset 7: missing closing parenthesis`.
public struct RuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: SourceLocation
    /// The rule's `name`, or `nil` when the problem is that it has none.
    public var rule: String?
    /// The key inside the rule (`operation.identifiers.id`), when the problem belongs to one.
    public var keyPath: String?
    public var message: String

    public init(at location: SourceLocation, rule: String?, keyPath: String?, message: String) {
        self.location = location
        self.rule = rule
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var text = "\(location): "
        if let rule { text += "rule \"\(rule)\": " }
        if let keyPath { text += "\(keyPath): " }
        return text + message
    }

    /// The same line as a warning, the way compilers print one:
    /// `rules/shop.yml:9: warning: rule "purchase": operation.timestamp.field: …`.
    public var warningDescription: String {
        var text = "\(location): warning: "
        if let rule { text += "rule \"\(rule)\": " }
        if let keyPath { text += "\(keyPath): " }
        return text + message
    }
}

/// Every problem found in a rule set, so that `check` can print them all.
public struct RuleErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [RuleError]

    public init(_ errors: [RuleError]) {
        self.errors = errors
    }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
