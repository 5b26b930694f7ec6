import Testing

@testable import TailTrack

/// What `check` reports for a rule as a whole — its keys, matcher, sources, `where:`, action
/// and parts — each with the file, line, rule and key it belongs to.
@Suite struct RuleCompilerTests {
    @Test func validRuleCompiles() throws {
        let rules = try compileRules(
            """
            - name: purchase
              match: 'checkout user_id=(?<user_id>\\d+)'
              operation: { action: event, identifiers: { id: "{{user_id}}" }, name: purchase }
            """
        )
        #expect(rules.rules.map(\.name) == ["purchase"])
    }

    @Test func invalidRegexNamesRuleLineAndOffset() {
        let errors = ruleErrors(
            """
            - name: purchase
              match: 'checkout (?<user_id>\\d+'
              operation: { action: event, identifiers: { id: "x" }, name: purchase }
            """
        )
        #expect(
            errors == ["rules.yml:2: rule \"purchase\": match: invalid regex at offset 23: missing closing parenthesis"]
        )
    }

    @Test func unknownRuleKeySuggests() {
        let errors = ruleErrors(
            """
            - name: purchase
              match: 'x'
              opration: { action: event }
            """
        )
        #expect(
            errors == [
                "rules.yml:3: rule \"purchase\": opration: unknown key \"opration\" (did you mean \"operation\"?)",
                "rules.yml:1: rule \"purchase\": the rule has no `operation:`",
            ]
        )
    }

    @Test func templateNamingMissingGroup() {
        let errors = ruleErrors(
            """
            - name: purchase
              match: 'user_id=(?<user_id>\\d+)'
              operation:
                action: event
                identifiers: { id: "{{userid}}" }
                name: purchase
            """
        )
        #expect(
            errors == [
                "rules.yml:5: rule \"purchase\": operation.identifiers.id: the regex has no group named \"userid\" (did you mean \"user_id\"?); its groups are user_id"
            ]
        )
    }

    @Test func unknownFilter() {
        let errors = ruleErrors(
            """
            - name: r
              parse: json
              operation:
                action: identify
                identifiers: { id: "{{id | integer}}" }
            """
        )
        #expect(
            errors == [
                "rules.yml:5: rule \"r\": operation.identifiers.id: unknown filter \"integer\"; filters are int, float, bool, lower, upper, trim, string, default(\"…\")"
            ]
        )
    }

    @Test func unknownActionListsTheActions() {
        let errors = ruleErrors(
            """
            - name: r
              parse: json
              operation: { type: object, action: event, identifiers: { object_type_id: "1", object_id: x } }
            """
        )
        #expect(
            errors == [
                "rules.yml:3: rule \"r\": operation.action: \"event\" is not an object action; object actions are add_relationships, delete, delete_relationships, identify, identify_anonymous"
            ]
        )
    }

    @Test func keyTheActionDoesNotTake() {
        let errors = ruleErrors(
            """
            - name: r
              parse: json
              operation:
                action: delete
                identifiers: { id: "{{id}}" }
                attributes: { a: b }
            """
        )
        #expect(
            errors == [
                "rules.yml:6: rule \"r\": operation.attributes: person delete operations have no attributes (they take identifiers)"
            ])
    }

    @Test func missingRequiredParts() {
        let errors = ruleErrors(
            """
            - name: r
              parse: json
              operation:
                action: event
            """
        )
        #expect(
            errors == [
                "rules.yml:4: rule \"r\": operation: person event operations need `identifiers:`",
                "rules.yml:4: rule \"r\": operation: person event operations need `name:`",
            ]
        )
    }

    @Test func unknownSourceAndDuplicateName() {
        let errors = ruleErrors(
            """
            - name: r
              sources: [nginx]
              parse: json
              operation: { action: delete, identifiers: { id: "{{id}}" } }
            - name: r
              parse: json
              operation: { action: delete, identifiers: { id: "{{id}}" } }
            """,
            sources: ["ngnix", "app"]
        )
        #expect(
            errors == [
                "rules.yml:2: rule \"r\": sources: no source is named \"nginx\" (did you mean \"ngnix\"?)",
                "rules.yml:5: rule \"r\": name: a rule with this name already exists at rules.yml:1",
            ]
        )
    }

    @Test func matchAndParseTogether() {
        let errors = ruleErrors(
            """
            - name: r
              match: 'x'
              parse: json
              operation: { action: delete, identifiers: { id: "1" } }
            """
        )
        #expect(errors == ["rules.yml:3: rule \"r\": parse: a rule has either `match:` or `parse:`, not both"])
    }

    @Test func badTimestampFormatAndParse() {
        let errors = ruleErrors(
            """
            - name: r
              parse: yaml
              operation:
                action: identify
                identifiers: { id: "{{id}}" }
                timestamp: { field: ts, format: iso }
            """
        )
        #expect(errors.count == 2)
        #expect(errors.first == "rules.yml:2: rule \"r\": parse: \"yaml\" is not one of json, logfmt")
        #expect(errors.last?.hasPrefix("rules.yml:6: rule \"r\": operation.timestamp.format: ") == true)
    }

    @Test func ruleWithoutName() {
        let errors = ruleErrors(
            """
            - match: 'x'
              operation: { action: delete, identifiers: { id: "1" } }
            """
        )
        #expect(errors == ["rules.yml:1: the rule has no name: add `name:`"])
    }

    @Test func badWhereCondition() {
        let errors = ruleErrors(
            """
            - name: r
              parse: json
              where: { msg: { regx: 'a' }, level: { regex: '(' } }
              operation: { action: delete, identifiers: { id: "1" } }
            """
        )
        #expect(
            errors == [
                "rules.yml:3: rule \"r\": where.msg.regx: unknown key \"regx\" (did you mean \"regex\"?)",
                "rules.yml:3: rule \"r\": where.level.regex: invalid regex at offset 1: missing closing parenthesis",
            ]
        )
    }

    @Test func unknownPersonActionListsThePersonActions() {
        let errors = ruleErrors(
            """
            - name: r
              parse: json
              operation: { action: identfy, identifiers: { id: "{{id}}" } }
            """
        )
        #expect(
            errors == [
                #"rules.yml:3: rule "r": operation.action: "identfy" is not a person action (did you mean "identify"?); person actions are add_device, add_relationships, delete, delete_device, delete_relationships, event, identify, merge, page, screen, suppress, unsuppress"#
            ]
        )
    }
}
