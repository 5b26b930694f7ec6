/// Runs the `tests:` embedded in rules: each case's line goes through the whole rule set (so a
/// rule shadowed by an earlier one fails its test), and what the rule under test produced is
/// compared with what the case expects.
public struct RuleTestRunner: Sendable {
    /// The result of one case.
    public struct Result: Sendable, Equatable {
        public var rule: String
        /// `tests[0]`
        public var name: String
        public var location: SourceLocation
        /// `nil` when the case passed; otherwise why it failed.
        public var failure: String?

        public var passed: Bool { failure == nil }
    }

    public let ruleSet: RuleSet
    /// Source a case is offered as when neither it nor its rule names one.
    public let defaultSource: String?

    public init(ruleSet: RuleSet, defaultSource: String?) {
        self.ruleSet = ruleSet
        self.defaultSource = defaultSource
    }

    /// Runs every case of every rule, in rule order.
    public func run(readTime: Int64) -> [Result] {
        let evaluator = ruleSet.makeEvaluator()
        var results: [Result] = []
        for rule in ruleSet.rules {
            for (index, test) in rule.tests.enumerated() {
                let failure = check(test, of: rule, evaluator: evaluator, readTime: readTime)
                results.append(
                    Result(rule: rule.name, name: "tests[\(index)]", location: test.location, failure: failure))
            }
        }
        return results
    }

    private func check(_ test: RuleTestCase, of rule: Rule, evaluator: RuleEvaluator, readTime: Int64) -> String? {
        let source = test.source ?? rule.sources?.sorted().first ?? defaultSource ?? ""
        var outcomes: [RuleOutcome] = []
        var lineBytes = Array(test.line.utf8)
        if let last = lineBytes.last, last == UInt8(ascii: "\n") { lineBytes.removeLast() }
        let headBytes = lineBytes + [UInt8(ascii: "\n")]
        let fingerprint =
            headBytes.withUnsafeBytes { FileFingerprint.compute(head: $0) } ?? FileFingerprint(value: 0, length: 0)
        lineBytes.withUnsafeBytes { line in
            evaluator.evaluate(
                line, source: source, path: "test", fingerprint: fingerprint, offset: 0, readTime: readTime
            ) {
                outcomes.append($0)
            }
        }
        let mine = outcomes.filter { outcome in
            switch outcome {
            case .operation(let operation): return operation.rule == rule.name
            case .rejected(let rejection): return rejection.rule == rule.name
            }
        }
        let takenBy = outcomes.first.map { outcome -> String in
            switch outcome {
            case .operation(let operation): return operation.rule
            case .rejected(let rejection): return rejection.rule
            }
        }

        switch test.expectation {
        case .noMatch:
            guard mine.isEmpty else { return "expected no match, but the rule took the line" }
            return nil
        case .rejected(let expectedReason):
            guard let first = mine.first else { return Self.notTaken(takenBy) }
            switch first {
            case .operation(let operation):
                return
                    "expected a rejection containing \"\(expectedReason)\", but the operation is valid: \(String(decoding: operation.bytes, as: UTF8.self))"
            case .rejected(let rejection):
                guard rejection.reason.contains(expectedReason) else {
                    return "expected a rejection containing \"\(expectedReason)\", got \"\(rejection.reason)\""
                }
                return nil
            }
        case .operation(let expected):
            guard let first = mine.first else { return Self.notTaken(takenBy) }
            switch first {
            case .rejected(let rejection):
                return "the operation was rejected: \(rejection.reason)"
            case .operation(let operation):
                guard let actual = operation.bytes.withUnsafeBytes({ JSONLineParser.parse($0) }) else {
                    return "the operation is not valid JSON: \(String(decoding: operation.bytes, as: UTF8.self))"
                }
                if let difference = Self.difference(expected: expected, actual: actual, path: "") {
                    return "\(difference)\n      operation: \(String(decoding: operation.bytes, as: UTF8.self))"
                }
                return nil
            }
        }
    }

    private static func notTaken(_ takenBy: String?) -> String {
        if let takenBy {
            return
                "the line was taken by rule \"\(takenBy)\" first (put this rule earlier, or add `continue: true` there)"
        }
        return "the rule did not match the line"
    }

    /// The first place where `actual` does not contain `expected`, or `nil`. Objects compare
    /// as subsets (keys the case does not name are ignored); numbers compare by value.
    static func difference(expected: JSONValue, actual: JSONValue?, path: String) -> String? {
        let label = path.isEmpty ? "operation" : path
        guard let actual else { return "\(label): expected \(describe(expected)), but it is missing" }
        switch (expected, actual) {
        case (.object(let members), .object):
            for member in members {
                let childPath = path.isEmpty ? member.key : "\(path).\(member.key)"
                if let difference = difference(expected: member.value, actual: actual[member.key], path: childPath) {
                    return difference
                }
            }
            return nil
        case (.array(let expectedItems), .array(let actualItems)):
            guard expectedItems.count == actualItems.count else {
                return "\(label): expected \(expectedItems.count) items, got \(actualItems.count)"
            }
            for (index, item) in expectedItems.enumerated() {
                if let difference = difference(expected: item, actual: actualItems[index], path: "\(label)[\(index)]") {
                    return difference
                }
            }
            return nil
        case (.int(let a), .int(let b)) where a == b: return nil
        case (.int(let a), .double(let b)) where Double(a) == b: return nil
        case (.double(let a), .int(let b)) where a == Double(b): return nil
        case (.double(let a), .double(let b)) where a == b: return nil
        case (.string(let a), .string(let b)) where a == b: return nil
        case (.bool(let a), .bool(let b)) where a == b: return nil
        case (.null, .null): return nil
        default:
            return "\(label): expected \(describe(expected)), got \(describe(actual))"
        }
    }

    private static func describe(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.write(value)
        let text = String(decoding: writer.bytes, as: UTF8.self)
        switch value {
        case .string: return "\(text) (a string)"
        case .int, .double: return "\(text) (a number)"
        case .bool: return "\(text) (a boolean)"
        default: return text
        }
    }
}
