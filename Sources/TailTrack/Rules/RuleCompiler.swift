/// Turns the `rules:` of a configuration (YAML as ``ValueSpec``) into ``Rule``s, collecting
/// every problem with the file, line, rule name and key it belongs to.
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

    // MARK: - operation

    private mutating func compileOperation(_ spec: ValueSpec, rule: String, resolver: FieldResolver)
        -> OperationTemplate?
    {
        guard let members = spec.members else {
            fail(spec.location, rule, "operation", "must be a mapping, found \(spec.kindName)")
            return nil
        }
        let errorsBefore = errors.count
        for member in members where !Self.operationKeys.contains(member.key) {
            fail(
                member.keyLocation, rule, "operation.\(member.key)",
                KeySuggestion.unknownKeyMessage(member.key, among: Self.operationKeys))
        }
        var type = EntityType.person
        if let member = spec["type"] {
            if let text = member.value.scalarText, let parsed = EntityType(rawValue: text) {
                type = parsed
            } else {
                fail(
                    member.value.location, rule, "operation.type",
                    "\"\(member.value.scalarText ?? member.value.kindName)\" is not one of person, object, delivery")
                return nil
            }
        }
        guard let actionMember = spec["action"] else {
            fail(spec.location, rule, "operation", "missing `action:`")
            return nil
        }
        let actions = OperationShape.actions[type] ?? [:]
        guard let action = actionMember.value.scalarText, let parts = actions[action] else {
            let text = actionMember.value.scalarText ?? actionMember.value.kindName
            let known = actions.keys.sorted()
            let hint = KeySuggestion.closest(to: text, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
            fail(
                actionMember.value.location, rule, "operation.action",
                "\"\(text)\" is not \(type == .object ? "an" : "a") \(type.rawValue) action\(hint); \(type.rawValue) actions are \(known.joined(separator: ", "))"
            )
            return nil
        }

        var template = OperationTemplate(type: type, action: action)
        for member in members {
            let key = member.key == "cio_relationships" ? "relationships" : member.key
            guard let part = OperationPart(rawValue: key) else { continue }
            let path = "operation.\(member.key)"
            guard parts.contains(part) else {
                fail(
                    member.keyLocation, rule, path,
                    "\(type.rawValue) \(action) operations have no \(member.key) (they take \(parts.map(\.rawValue).sorted().joined(separator: ", ")))"
                )
                continue
            }
            switch part {
            case .identifiers:
                guard member.value.members != nil else {
                    fail(
                        member.value.location, rule, path,
                        "must be a mapping such as { id: \"{{user_id}}\" }, found \(member.value.kindName)")
                    continue
                }
                template.identifiers = compileValue(member.value, rule: rule, path: path, resolver: resolver)
            case .name:
                guard let text = member.value.scalarText else {
                    fail(member.value.location, rule, path, "must be a string, found \(member.value.kindName)")
                    continue
                }
                template.name = compileTemplate(
                    text, at: member.value.location, rule: rule, path: path, resolver: resolver)
            case .timestamp:
                template.timestamp = compileTimestamp(member.value, rule: rule, resolver: resolver)
            case .attributes:
                guard member.value.members != nil else {
                    fail(
                        member.value.location, rule, path,
                        "must be a mapping of attribute: value, found \(member.value.kindName)")
                    continue
                }
                template.attributes = compileValue(member.value, rule: rule, path: path, resolver: resolver)
            case .relationships:
                guard case .array = member.value.kind else {
                    fail(
                        member.value.location, rule, path,
                        "must be a list of { identifiers: …, attributes: … }, found \(member.value.kindName)")
                    continue
                }
                template.relationships = compileValue(member.value, rule: rule, path: path, resolver: resolver)
            case .device:
                template.device = compileValue(member.value, rule: rule, path: path, resolver: resolver)
            case .primary:
                template.primary = compileValue(member.value, rule: rule, path: path, resolver: resolver)
            case .secondary:
                template.secondary = compileValue(member.value, rule: rule, path: path, resolver: resolver)
            }
        }
        let present = Set(
            members.compactMap { OperationPart(rawValue: $0.key == "cio_relationships" ? "relationships" : $0.key) })
        for missing in OperationShape.required(type, action).subtracting(present).sorted(by: {
            $0.rawValue < $1.rawValue
        }) {
            fail(spec.location, rule, "operation", "\(type.rawValue) \(action) operations need `\(missing.rawValue):`")
        }
        checkLiteralShape(spec, type: type, action: action, rule: rule)
        return errors.count == errorsBefore ? template : nil
    }

    // MARK: - Shapes visible in the rule text

    /// The identifier keys an operation part takes: which names are allowed, and which sets
    /// of them are enough (at least one set must be written in full).
    private struct IdentifierShape {
        var allowed: [String]
        var enough: [[String]]
        /// `object identifiers` in messages.
        var noun: String
    }

    private static let objectIdentifiers = IdentifierShape(
        allowed: ["object_type_id", "object_id", "cio_object_id"],
        enough: [["object_type_id", "object_id"], ["cio_object_id"]],
        noun: "object identifiers")

    private static func identifierShape(_ type: EntityType, _ action: String, relationship: Bool)
        -> IdentifierShape
    {
        let person = { (allowed: [String]) in
            IdentifierShape(allowed: allowed, enough: allowed.map { [$0] }, noun: "person identifiers")
        }
        switch (type, relationship) {
        case (.person, false):
            return person(action == "merge" ? TrackLimits.mergeIdentifiers : TrackLimits.personIdentifiers)
        case (.person, true):
            return objectIdentifiers
        case (.object, false):
            guard action == "identify_anonymous" else { return objectIdentifiers }
            let required = ["object_type_id", "object_id"]
            return IdentifierShape(allowed: required, enough: [required], noun: "object identifiers")
        case (.object, true):
            guard action == "identify_anonymous" else { return person(TrackLimits.mergeIdentifiers) }
            return IdentifierShape(allowed: ["anonymous_id"], enough: [["anonymous_id"]], noun: "anonymous people")
        case (.delivery, _):
            return IdentifierShape(allowed: ["id"], enough: [["id"]], noun: "delivery identifiers")
        }
    }

    /// What `check` can tell from the rule text alone, before any line: identifier names the
    /// type does not have or that are not enough, attribute names over Track's limit, too
    /// many attributes, a delivery event without `attributes.device_token`. Values that are
    /// templates are left to run time.
    private mutating func checkLiteralShape(_ spec: ValueSpec, type: EntityType, action: String, rule: String) {
        if let member = spec["identifiers"] {
            checkIdentifiers(
                member.value, shape: Self.identifierShape(type, action, relationship: false), rule: rule,
                path: "operation.identifiers")
        }
        for side in ["primary", "secondary"] {
            if let member = spec[side] {
                checkIdentifiers(
                    member.value, shape: Self.identifierShape(type, action, relationship: false), rule: rule,
                    path: "operation.\(side)")
            }
        }
        if let member = spec["relationships"] ?? spec["cio_relationships"], case .array(let items) = member.value.kind {
            if items.isEmpty, action == "add_relationships" || action == "delete_relationships" {
                fail(member.value.location, rule, "operation.\(member.key)", "must list at least one relationship")
            }
            for (index, item) in items.enumerated() {
                let path = "operation.\(member.key)[\(index)]"
                if case .string = item.kind { continue }  // "{{rel}}": a whole relationship from the line
                guard item.members != nil else {
                    fail(
                        item.location, rule, path,
                        "must be a mapping { identifiers: …, attributes: … }, found \(item.kindName)")
                    continue
                }
                guard let identifiers = item["identifiers"] else {
                    fail(item.location, rule, path, "missing `identifiers:`")
                    continue
                }
                checkIdentifiers(
                    identifiers.value, shape: Self.identifierShape(type, action, relationship: true), rule: rule,
                    path: "\(path).identifiers")
            }
        }
        let attributes = spec["attributes"]
        if let attributes, let members = attributes.value.members {
            if members.count > TrackLimits.attributeCount {
                fail(
                    attributes.keyLocation, rule, "operation.attributes",
                    "\(members.count) attributes; Track allows \(TrackLimits.attributeCount)")
            }
            for member in members where member.key.utf8.count > TrackLimits.attributeNameBytes {
                fail(
                    member.keyLocation, rule, "operation.attributes.\(member.key.prefix(40))…",
                    "the name is \(member.key.utf8.count) bytes; Track allows \(TrackLimits.attributeNameBytes)")
            }
        }
        if type == .delivery, action == "event", attributes?.value["device_token"] == nil {
            fail(
                attributes?.keyLocation ?? spec.location, rule, "operation.attributes",
                "delivery events need attributes.device_token (the device that received the message)")
        }
    }

    private mutating func checkIdentifiers(_ value: ValueSpec, shape: IdentifierShape, rule: String, path: String) {
        guard let members = value.members else {
            if case .string = value.kind { return }  // "{{ids}}": a whole mapping from the line
            fail(
                value.location, rule, path, "must be a mapping such as { id: \"{{user_id}}\" }, found \(value.kindName)"
            )
            return
        }
        var unknown = false
        for member in members where !member.key.contains("{{") && !shape.allowed.contains(member.key) {
            unknown = true
            let hint =
                KeySuggestion.closest(to: member.key, among: shape.allowed).map { " (did you mean \"\($0)\"?)" } ?? ""
            fail(
                member.keyLocation, rule, "\(path).\(member.key)",
                "\"\(member.key)\" is not one of \(shape.allowed.joined(separator: ", "))\(hint)")
        }
        guard !unknown, !members.contains(where: { $0.key.contains("{{") }) else { return }
        let written = Set(members.map(\.key))
        guard !shape.enough.contains(where: { written.isSuperset(of: $0) }) else { return }
        let needs =
            shape.enough.allSatisfy { $0.count == 1 }
            ? "one of \(shape.allowed.joined(separator: ", "))"
            : shape.enough.map { $0.joined(separator: " and ") }.joined(separator: ", or ")
        fail(value.location, rule, path, "\(shape.noun) need \(needs)")
    }

    private mutating func compileTimestamp(_ spec: ValueSpec, rule: String, resolver: FieldResolver) -> TimestampSource?
    {
        guard spec.members != nil else {
            fail(
                spec.location, rule, "operation.timestamp",
                "must be a mapping { field: NAME, format: rfc3339|unix|unix_ms|strftime pattern }")
            return nil
        }
        for member in spec.members ?? [] where member.key != "field" && member.key != "format" {
            fail(
                member.keyLocation, rule, "operation.timestamp.\(member.key)",
                KeySuggestion.unknownKeyMessage(member.key, among: ["field", "format"]))
        }
        guard let field = spec["field"]?.value.scalarText else {
            fail(spec.location, rule, "operation.timestamp", "missing `field:`")
            return nil
        }
        let formatName = spec["format"]?.value.scalarText ?? "rfc3339"
        let format: TimestampFormat
        do {
            format = try TimestampFormat(parsing: formatName)
        } catch {
            fail(spec["format"]?.value.location ?? spec.location, rule, "operation.timestamp.format", error.message)
            return nil
        }
        do {
            let reference = try resolver.resolve(field)
            return TimestampSource(field: reference, format: format, formatName: formatName)
        } catch {
            // A field the regex cannot produce is never on a line: the rule works as one
            // without `timestamp:` (the time the line was read), which is worth a warning only.
            warn(
                spec["field"]?.value.location ?? spec.location, rule, "operation.timestamp.field",
                "\(error.message); operations get the time the line was read")
            return nil
        }
    }

    private mutating func compileValue(_ spec: ValueSpec, rule: String, path: String, resolver: FieldResolver)
        -> ValueTemplate
    {
        switch spec.kind {
        case .string(let text):
            guard let template = compileTemplate(text, at: spec.location, rule: rule, path: path, resolver: resolver)
            else {
                return .constant(.null)
            }
            if let constant = template.constantText { return .constant(.string(constant)) }
            return .template(template)
        case .array(let items):
            return .array(
                items.enumerated().map { compileValue($1, rule: rule, path: "\(path)[\($0)]", resolver: resolver) })
        case .object(let members):
            for member in members where member.key.contains("{{") {
                fail(
                    member.keyLocation, rule, "\(path).\(member.key)",
                    "\(Self.keyNoun(path)) names cannot be templates; only values can hold {{…}}")
            }
            return .object(
                members.map {
                    (
                        key: $0.key,
                        value: compileValue($0.value, rule: rule, path: "\(path).\($0.key)", resolver: resolver)
                    )
                })
        default:
            return .constant(spec.jsonValue)
        }
    }

    private mutating func compileTemplate(
        _ text: String,
        at location: SourceLocation,
        rule: String,
        path: String,
        resolver: FieldResolver
    ) -> Template? {
        do {
            return try Template(text, resolve: resolver.resolve)
        } catch {
            fail(location, rule, path, error.message)
            return nil
        }
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

    private mutating func fail(_ location: SourceLocation, _ rule: String?, _ keyPath: String?, _ message: String) {
        errors.append(RuleError(at: location, rule: rule, keyPath: keyPath, message: message))
    }

    /// How the keys of the mapping at `path` are called in messages.
    private static func keyNoun(_ path: String) -> String {
        let last = path.split(separator: ".").last.map(String.init) ?? path
        if last.hasSuffix("attributes") { return "attribute" }
        if last == "identifiers" || last == "primary" || last == "secondary" { return "identifier" }
        return "key"
    }

    private mutating func warn(_ location: SourceLocation, _ rule: String?, _ keyPath: String?, _ message: String) {
        warnings.append(RuleError(at: location, rule: rule, keyPath: keyPath, message: message))
    }
}

/// Resolves the field names a rule's templates and conditions use, for the rule's matcher.
struct FieldResolver {
    var matcher: LineMatcher?

    func resolve(_ name: String) throws(TemplateSyntaxError) -> FieldReference {
        switch name {
        case "_line": return .line
        case "_path": return .filePath
        case "_source": return .source
        default: break
        }
        switch matcher {
        case .regex(let regex)?:
            if let number = regex.groupNumbers[name] { return .group(number, name: name) }
            let groups = regex.groupNumbers.keys.sorted()
            let hint = KeySuggestion.closest(to: name, among: groups).map { " (did you mean \"\($0)\"?)" } ?? ""
            let known = groups.isEmpty ? "it has no named groups" : "its groups are \(groups.joined(separator: ", "))"
            throw TemplateSyntaxError(message: "the regex has no group named \"\(name)\"\(hint); \(known)")
        case .json?, .logfmt?, nil:
            return .path(name)
        }
    }
}

extension OperationTemplate {
    init(type: EntityType, action: String) {
        self.init(
            type: type,
            action: action,
            identifiers: nil,
            name: nil,
            timestamp: nil,
            attributes: nil,
            relationships: nil,
            device: nil,
            primary: nil,
            secondary: nil
        )
    }
}
