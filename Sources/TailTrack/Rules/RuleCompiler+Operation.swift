/// The `operation:` part of ``RuleCompiler``: compiles a rule's operation into an
/// ``OperationTemplate`` for its ``TrackOperationShape``, and checks what the rule text
/// alone shows against Track's shapes and ``TrackLimits``.
extension RuleCompiler {
    mutating func compileOperation(_ spec: ValueSpec, rule: String, resolver: FieldResolver)
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
        guard let action = actionMember.value.scalarText, let shape = TrackOperationShape(type, action: action) else {
            let text = actionMember.value.scalarText ?? actionMember.value.kindName
            let known = TrackOperationShape.actions(of: type)
            let hint = KeySuggestion.closest(to: text, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
            fail(
                actionMember.value.location, rule, "operation.action",
                "\"\(text)\" is not \(type == .object ? "an" : "a") \(type.rawValue) action\(hint); \(type.rawValue) actions are \(known.joined(separator: ", "))"
            )
            return nil
        }

        let parts = shape.parts
        var template = OperationTemplate(shape: shape)
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
        for missing in shape.requiredParts.subtracting(present).sorted(by: {
            $0.rawValue < $1.rawValue
        }) {
            fail(spec.location, rule, "operation", "\(type.rawValue) \(action) operations need `\(missing.rawValue):`")
        }
        checkLiteralShape(spec, shape: shape, rule: rule)
        return errors.count == errorsBefore ? template : nil
    }

    // MARK: - Shapes visible in the rule text

    /// What `check` can tell from the rule text alone, before any line: identifier names the
    /// type does not have or that are not enough, attribute names over Track's limit, too
    /// many attributes, a delivery event without `attributes.device_token`. Values that are
    /// templates are left to run time.
    private mutating func checkLiteralShape(_ spec: ValueSpec, shape: TrackOperationShape, rule: String) {
        if let member = spec["identifiers"] {
            checkIdentifiers(
                member.value, keys: shape.identifierKeys(relationship: false), rule: rule,
                path: "operation.identifiers")
        }
        for side in ["primary", "secondary"] {
            if let member = spec[side] {
                checkIdentifiers(
                    member.value, keys: shape.identifierKeys(relationship: false), rule: rule,
                    path: "operation.\(side)")
            }
        }
        if let member = spec["relationships"] ?? spec["cio_relationships"], case .array(let items) = member.value.kind {
            if items.isEmpty, shape.changesRelationships {
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
                    identifiers.value, keys: shape.identifierKeys(relationship: true), rule: rule,
                    path: "\(path).identifiers")
            }
        }
        let attributes = spec["attributes"]
        if let attributes, let members = attributes.value.members {
            if !TrackLimits.allowsAttributes(count: members.count) {
                fail(
                    attributes.keyLocation, rule, "operation.attributes",
                    "\(members.count) attributes; Track allows \(TrackLimits.attributeCount)")
            }
            for member in members where !TrackLimits.allowsAttributeName(bytes: member.key.utf8.count) {
                fail(
                    member.keyLocation, rule, "operation.attributes.\(member.key.prefix(40))…",
                    "the name is \(member.key.utf8.count) bytes; Track allows \(TrackLimits.attributeNameBytes)")
            }
        }
        if shape.type == .delivery, shape.action == "event", attributes?.value["device_token"] == nil {
            fail(
                attributes?.keyLocation ?? spec.location, rule, "operation.attributes",
                "delivery events need attributes.device_token (the device that received the message)")
        }
    }

    private mutating func checkIdentifiers(
        _ value: ValueSpec,
        keys: TrackOperationShape.IdentifierKeys,
        rule: String,
        path: String
    ) {
        guard let members = value.members else {
            if case .string = value.kind { return }  // "{{ids}}": a whole mapping from the line
            fail(
                value.location, rule, path, "must be a mapping such as { id: \"{{user_id}}\" }, found \(value.kindName)"
            )
            return
        }
        var unknown = false
        for member in members where !member.key.contains("{{") && !keys.allowed.contains(member.key) {
            unknown = true
            let hint =
                KeySuggestion.closest(to: member.key, among: keys.allowed).map { " (did you mean \"\($0)\"?)" } ?? ""
            fail(
                member.keyLocation, rule, "\(path).\(member.key)",
                "\"\(member.key)\" is not one of \(keys.allowed.joined(separator: ", "))\(hint)")
        }
        guard !unknown, !members.contains(where: { $0.key.contains("{{") }) else { return }
        let written = Set(members.map(\.key))
        guard !keys.enough.contains(where: { written.isSuperset(of: $0) }) else { return }
        let needs =
            keys.enough.allSatisfy { $0.count == 1 }
            ? "one of \(keys.allowed.joined(separator: ", "))"
            : keys.enough.map { $0.joined(separator: " and ") }.joined(separator: ", or ")
        fail(value.location, rule, path, "\(keys.noun) need \(needs)")
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

    /// How the keys of the mapping at `path` are called in messages.
    private static func keyNoun(_ path: String) -> String {
        let last = path.split(separator: ".").last.map(String.init) ?? path
        if last.hasSuffix("attributes") { return "attribute" }
        if last == "identifiers" || last == "primary" || last == "secondary" { return "identifier" }
        return "key"
    }
}
