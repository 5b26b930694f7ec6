/// Turns the `rules:` of a configuration (YAML as ``ValueSpec``) into ``Rule``s, collecting
/// every problem with the file, line, rule name and key it belongs to.
///
/// This file compiles the rule around its operation (name, matcher, `sources:`, `where:`,
/// `tests:`); `RuleCompiler+Operation.swift` compiles the `operation:` itself.
struct RuleCompiler {
    static let ruleKeys = [
        "name", "description", "sources", "match", "parse", "where", "continue", "operation", "tests",
    ]
    static let operationKeys = [
        "type", "action", "identifiers", "name", "timestamp", "attributes", "relationships", "cio_relationships",
        "device", "primary", "secondary",
    ]
    static let testKeys = ["line", "expect", "expect_error", "source"]
    static let conditionKeys = ["equals", "one_of", "regex", "exists"]

    /// The source names the config defines, to check `sources:`; `nil` skips the check.
    var knownSources: Set<String>?
    private(set) var errors: [RuleError] = []
    /// Problems that do not stop the rule from working (`check` prints them, exit status 0).
    private(set) var warnings: [RuleError] = []

    init(knownSources: Set<String>?) {
        self.knownSources = knownSources
    }

    mutating func compile(_ specs: [ValueSpec]) -> [Rule] {
        var rules: [Rule] = []
        var seen: [String: SourceLocation] = [:]
        for spec in specs {
            if let member = spec["name"], case .string(let name) = member.value.kind, !name.isEmpty {
                if let first = seen[name] {
                    fail(member.value.location, name, "name", "a rule with this name already exists at \(first)")
                    continue
                }
                seen[name] = member.keyLocation
            }
            if let rule = compileRule(spec) { rules.append(rule) }
        }
        return rules
    }

    // MARK: - Rule

    private mutating func compileRule(_ spec: ValueSpec) -> Rule? {
        guard let members = spec.members else {
            fail(spec.location, nil, nil, "a rule must be a mapping, found \(spec.kindName)")
            return nil
        }
        guard let nameMember = spec["name"] else {
            fail(spec.location, nil, nil, "the rule has no name: add `name:`")
            return nil
        }
        guard case .string(let name) = nameMember.value.kind, !name.isEmpty else {
            fail(nameMember.value.location, nil, "name", "must be a non-empty string")
            return nil
        }
        let errorsBefore = errors.count
        for member in members where !Self.ruleKeys.contains(member.key) {
            fail(
                member.keyLocation, name, member.key, KeySuggestion.unknownKeyMessage(member.key, among: Self.ruleKeys))
        }

        let sources = compileSources(spec["sources"], rule: name)
        let continues = compileBool(spec["continue"], rule: name) ?? false

        var matcher: LineMatcher?
        switch (spec["match"], spec["parse"]) {
        case (let match?, nil):
            if case .string(let pattern) = match.value.kind {
                do {
                    matcher = .regex(try CompiledRegex(pattern))
                } catch {
                    fail(match.value.location, name, "match", error.description)
                }
            } else {
                fail(match.value.location, name, "match", "must be a regex string, found \(match.value.kindName)")
            }
        case (nil, let parse?):
            switch parse.value.scalarText {
            case "json": matcher = .json
            case "logfmt": matcher = .logfmt
            default:
                fail(
                    parse.value.location, name, "parse",
                    "\"\(parse.value.scalarText ?? parse.value.kindName)\" is not one of json, logfmt")
            }
        case (.some, .some(let parse)):
            fail(parse.keyLocation, name, "parse", "a rule has either `match:` or `parse:`, not both")
        case (nil, nil):
            fail(spec.location, name, nil, "the rule needs `match:` (a regex) or `parse:` (json or logfmt)")
        }

        let resolver = FieldResolver(matcher: matcher)
        let conditions = compileConditions(spec["where"], rule: name, resolver: resolver)
        var operation: OperationTemplate?
        if let member = spec["operation"] {
            operation = compileOperation(member.value, rule: name, resolver: resolver)
        } else {
            fail(spec.location, name, nil, "the rule has no `operation:`")
        }
        let tests = compileTests(spec["tests"], rule: name)

        guard errors.count == errorsBefore, let matcher, let operation else { return nil }
        return Rule(
            name: name,
            location: nameMember.keyLocation,
            sources: sources,
            continues: continues,
            tests: tests,
            matcher: matcher,
            conditions: conditions,
            operation: operation,
            encoder: OperationEncoder(operation, ruleName: name)
        )
    }

    private mutating func compileSources(_ member: ValueSpec.Member?, rule: String) -> Set<String>? {
        guard let member else { return nil }
        let items: [ValueSpec]
        switch member.value.kind {
        case .array(let list): items = list
        case .string: items = [member.value]
        default:
            fail(
                member.value.location, rule, "sources", "must be a list of source names, found \(member.value.kindName)"
            )
            return nil
        }
        var names: Set<String> = []
        for item in items {
            guard case .string(let source) = item.kind else {
                fail(item.location, rule, "sources", "must be a list of source names, found \(item.kindName)")
                continue
            }
            if let knownSources, !knownSources.contains(source) {
                let hint =
                    KeySuggestion.closest(to: source, among: knownSources.sorted()).map { " (did you mean \"\($0)\"?)" }
                    ?? ""
                fail(item.location, rule, "sources", "no source is named \"\(source)\"\(hint)")
            }
            names.insert(source)
        }
        return names
    }

    private mutating func compileBool(_ member: ValueSpec.Member?, rule: String) -> Bool? {
        guard let member else { return nil }
        guard case .bool(let flag) = member.value.kind else {
            fail(member.value.location, rule, member.key, "must be true or false, found \(member.value.kindName)")
            return nil
        }
        return flag
    }

    // MARK: - where

    private mutating func compileConditions(
        _ member: ValueSpec.Member?,
        rule: String,
        resolver: FieldResolver
    ) -> [FieldCondition] {
        guard let member else { return [] }
        guard let fields = member.value.members else {
            fail(
                member.value.location, rule, "where",
                "must be a mapping of field: condition, found \(member.value.kindName)")
            return []
        }
        var conditions: [FieldCondition] = []
        for field in fields {
            let path = "where.\(field.key)"
            let reference: FieldReference
            do {
                reference = try resolver.resolve(field.key)
            } catch {
                fail(field.keyLocation, rule, path, error.message)
                continue
            }
            switch field.value.kind {
            case .array(let items):
                conditions.append(FieldCondition(field: reference, test: .oneOf(items.map(\.jsonValue))))
            case .object(let tests):
                for test in tests {
                    let testPath = "\(path).\(test.key)"
                    switch test.key {
                    case "equals":
                        conditions.append(FieldCondition(field: reference, test: .equals(test.value.jsonValue)))
                    case "one_of":
                        guard case .array(let items) = test.value.kind else {
                            fail(test.value.location, rule, testPath, "must be a list")
                            continue
                        }
                        conditions.append(FieldCondition(field: reference, test: .oneOf(items.map(\.jsonValue))))
                    case "regex":
                        guard case .string(let pattern) = test.value.kind else {
                            fail(test.value.location, rule, testPath, "must be a regex string")
                            continue
                        }
                        do {
                            conditions.append(
                                FieldCondition(field: reference, test: .regex(try CompiledRegex(pattern))))
                        } catch {
                            fail(test.value.location, rule, testPath, error.description)
                        }
                    case "exists":
                        guard case .bool(let flag) = test.value.kind else {
                            fail(test.value.location, rule, testPath, "must be true or false")
                            continue
                        }
                        conditions.append(FieldCondition(field: reference, test: .exists(flag)))
                    default:
                        fail(
                            test.keyLocation, rule, testPath,
                            KeySuggestion.unknownKeyMessage(test.key, among: Self.conditionKeys))
                    }
                }
            default:
                conditions.append(FieldCondition(field: reference, test: .equals(field.value.jsonValue)))
            }
        }
        return conditions
    }

    // MARK: - tests

    private mutating func compileTests(_ member: ValueSpec.Member?, rule: String) -> [RuleTestCase] {
        guard let member else { return [] }
        guard case .array(let items) = member.value.kind else {
            fail(
                member.value.location, rule, "tests",
                "must be a list of { line: …, expect: … }, found \(member.value.kindName)")
            return []
        }
        var cases: [RuleTestCase] = []
        for (index, item) in items.enumerated() {
            let path = "tests[\(index)]"
            guard let fields = item.members else {
                fail(item.location, rule, path, "must be a mapping { line: …, expect: … }, found \(item.kindName)")
                continue
            }
            for field in fields where !Self.testKeys.contains(field.key) {
                fail(
                    field.keyLocation, rule, "\(path).\(field.key)",
                    KeySuggestion.unknownKeyMessage(field.key, among: Self.testKeys))
            }
            guard let line = item["line"]?.value.scalarText else {
                fail(item.location, rule, path, "missing `line:` (the log line to try)")
                continue
            }
            let expectation: RuleTestCase.Expectation
            switch (item["expect"], item["expect_error"]) {
            case (let expect?, nil):
                switch expect.value.kind {
                case .object: expectation = .operation(expect.value.jsonValue)
                case .null: expectation = .noMatch
                case .string("no_match"), .string("none"): expectation = .noMatch
                default:
                    fail(
                        expect.value.location, rule, "\(path).expect",
                        "must be a mapping of expected operation keys, or no_match")
                    continue
                }
            case (nil, let error?):
                expectation = .rejected(error.value.scalarText ?? "")
            case (.some, .some(let error)):
                fail(
                    error.keyLocation, rule, "\(path).expect_error",
                    "a test has either `expect:` or `expect_error:`, not both")
                continue
            case (nil, nil):
                fail(item.location, rule, path, "missing `expect:` (or `expect_error:`)")
                continue
            }
            cases.append(
                RuleTestCase(
                    line: line,
                    expectation: expectation,
                    source: item["source"]?.value.scalarText,
                    location: item["line"]?.keyLocation ?? item.location
                )
            )
        }
        return cases
    }

    /// Records a problem that makes the rule unusable.
    mutating func fail(_ location: SourceLocation, _ rule: String?, _ keyPath: String?, _ message: String) {
        errors.append(RuleError(at: location, rule: rule, keyPath: keyPath, message: message))
    }

    /// Records a problem that leaves the rule working (`check` prints it, exit status 0).
    mutating func warn(_ location: SourceLocation, _ rule: String?, _ keyPath: String?, _ message: String) {
        warnings.append(RuleError(at: location, rule: rule, keyPath: keyPath, message: message))
    }
}
