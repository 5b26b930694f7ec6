import Testing

@testable import TailTrack

/// What `check` tells from a rule's `operation:` text alone, before any line
/// (`RuleCompiler+Operation.swift`): identifier names against Track's shapes, attribute names
/// and counts against ``TrackLimits``, and a timestamp field no line can have.
@Suite struct RuleCompilerOperationTests {
    @Test func timestampFieldTheRegexCannotProduceIsAWarningNotAnError() throws {
        let rules = try compileRules(
            """
            - name: purchase
              match: 'checkout user_id=(?<user_id>\\d+)'
              operation:
                action: event
                identifiers: { id: "{{user_id}}" }
                name: purchase
                timestamp: { field: ts, format: rfc3339 }
            """
        )
        #expect(
            rules.warnings.map(\.warningDescription) == [
                #"rules.yml:7: warning: rule "purchase": operation.timestamp.field: the regex has no group named "ts"; its groups are user_id; operations get the time the line was read"#
            ]
        )
        // The rule works as one without `timestamp:`: the time the line was read.
        #expect(operations(rules, line: "checkout user_id=7").first?["timestamp"] == .int(testReadTime))
    }

    @Test func aGoodRuleHasNoWarnings() throws {
        let rules = try compileRules(
            """
            - name: r
              match: 'at=(?<at>\\d+) u=(?<u>\\d+)'
              operation: { action: identify, identifiers: { id: "{{u}}" }, timestamp: { field: at, format: unix } }
            """
        )
        #expect(rules.warnings.isEmpty)
    }

    @Test func deliveryEventWithoutDeviceToken() {
        let without = ruleErrors(
            """
            - name: d
              parse: json
              operation:
                type: delivery
                action: event
                identifiers: { id: "{{delivery}}" }
                name: opened
            """
        )
        #expect(
            without == [
                #"rules.yml:4: rule "d": operation.attributes: delivery events need attributes.device_token (the device that received the message)"#
            ]
        )
        let otherAttributes = ruleErrors(
            """
            - name: d
              parse: json
              operation:
                type: delivery
                action: event
                identifiers: { id: "{{delivery}}" }
                name: opened
                attributes: { token: "{{token}}" }
            """
        )
        #expect(
            otherAttributes == [
                #"rules.yml:8: rule "d": operation.attributes: delivery events need attributes.device_token (the device that received the message)"#
            ]
        )
    }

    @Test func attributeNamesCannotBeTemplates() {
        let errors = ruleErrors(
            """
            - name: r
              match: 'a=(?<a>\\S+) b=(?<b>\\S+)'
              operation:
                action: identify
                identifiers: { id: "{{a}}" }
                attributes: { "{{b}}": 1, plan: { "x_{{b}}": 2 } }
            """
        )
        #expect(
            errors == [
                #"rules.yml:6: rule "r": operation.attributes.{{b}}: attribute names cannot be templates; only values can hold {{…}}"#,
                #"rules.yml:6: rule "r": operation.attributes.plan.x_{{b}}: key names cannot be templates; only values can hold {{…}}"#,
            ]
        )
    }

    @Test func identifierNamesCannotBeTemplates() {
        let errors = ruleErrors(
            """
            - name: r
              match: 'a=(?<a>\\S+) b=(?<b>\\S+)'
              operation: { action: delete, identifiers: { "{{b}}": "{{a}}" } }
            """
        )
        #expect(
            errors == [
                #"rules.yml:3: rule "r": operation.identifiers.{{b}}: identifier names cannot be templates; only values can hold {{…}}"#
            ]
        )
    }

    @Test func unknownPersonIdentifierKey() {
        let errors = ruleErrors(
            """
            - name: r
              match: 'u=(?<u>\\d+)'
              operation: { action: delete, identifiers: { id: "{{u}}", user_id: "{{u}}" } }
            """
        )
        #expect(
            errors == [
                #"rules.yml:3: rule "r": operation.identifiers.user_id: "user_id" is not one of id, email, phone, cio_id"#
            ]
        )
    }

    @Test func objectIdentifiersNeedTypeAndIDOrCioObjectID() {
        let errors = ruleErrors(
            """
            - name: no_type
              parse: json
              operation: { type: object, action: delete, identifiers: { object_id: "{{id}}" } }
            - name: cio_only
              parse: json
              operation: { type: object, action: delete, identifiers: { cio_object_id: "{{id}}" } }
            - name: typo
              parse: json
              operation: { type: object, action: delete, identifiers: { object_typeid: "1", object_id: "{{id}}" } }
            - name: anonymous
              parse: json
              operation:
                type: object
                action: identify_anonymous
                identifiers: { cio_object_id: "{{id}}" }
            """
        )
        #expect(
            errors == [
                #"rules.yml:3: rule "no_type": operation.identifiers: object identifiers need object_type_id and object_id, or cio_object_id"#,
                #"rules.yml:9: rule "typo": operation.identifiers.object_typeid: "object_typeid" is not one of object_type_id, object_id, cio_object_id (did you mean "object_type_id"?)"#,
                #"rules.yml:15: rule "anonymous": operation.identifiers.cio_object_id: "cio_object_id" is not one of object_type_id, object_id (did you mean "object_id"?)"#,
            ]
        )
    }

    @Test func relationshipAndMergeIdentifiers() {
        let errors = ruleErrors(
            """
            - name: person_to_object
              parse: json
              operation:
                action: add_relationships
                identifiers: { id: "{{id}}" }
                relationships: [{ identifiers: { object_id: "{{id}}" } }]
            - name: anonymous
              parse: json
              operation:
                type: object
                action: identify_anonymous
                identifiers: { object_type_id: "1", object_id: "{{id}}" }
                relationships: [{ identifiers: { id: "{{id}}" } }]
            - name: empty
              parse: json
              operation: { action: delete_relationships, identifiers: { id: "{{id}}" }, relationships: [] }
            - name: merge
              parse: json
              operation: { action: merge, primary: { phone: "{{a}}" }, secondary: { id: "{{b}}" } }
            """
        )
        #expect(
            errors == [
                #"rules.yml:6: rule "person_to_object": operation.relationships[0].identifiers: object identifiers need object_type_id and object_id, or cio_object_id"#,
                #"rules.yml:13: rule "anonymous": operation.relationships[0].identifiers.id: "id" is not one of anonymous_id"#,
                #"rules.yml:16: rule "empty": operation.relationships: must list at least one relationship"#,
                #"rules.yml:19: rule "merge": operation.primary.phone: "phone" is not one of id, email, cio_id"#,
            ]
        )
    }

    @Test func attributeNameAndCountLimits() {
        let longName = String(repeating: "k", count: 151)
        let many = (0..<301).map { "a\($0): \($0)" }.joined(separator: ", ")
        let errors = ruleErrors(
            """
            - name: long
              match: 'u=(?<u>\\d+)'
              operation:
                action: identify
                identifiers: { id: "{{u}}" }
                attributes:
                  ok: 1
                  \(longName): 1
            - name: many
              match: 'u=(?<u>\\d+)'
              operation:
                action: identify
                identifiers: { id: "{{u}}" }
                attributes: { \(many) }
            """
        )
        #expect(
            errors == [
                "rules.yml:8: rule \"long\": operation.attributes.\(longName.prefix(40))…: the name is 151 bytes; Track allows 150",
                "rules.yml:14: rule \"many\": operation.attributes: 301 attributes; Track allows 300",
            ]
        )
        // At the limits: a 150-byte name among 300 attributes.
        let atLimit = String(repeating: "k", count: 150)
        let others = (0..<299).map { "a\($0): \($0)" }.joined(separator: ", ")
        #expect(
            ruleErrors(
                """
                - name: ok
                  match: 'u=(?<u>\\d+)'
                  operation: { action: identify, identifiers: { id: "{{u}}" }, attributes: { \(atLimit): 1, \(others) } }
                """
            ) == []
        )
    }
}
