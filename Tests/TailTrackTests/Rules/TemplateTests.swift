import Testing

@testable import TailTrack

/// Templates and filters, seen through the attributes a rule sends.
@Suite struct TemplateTests {
    /// The attribute `a` rendered from template `template` for a line `v=VALUE`.
    private func attribute(_ template: String, value: String) throws -> JSONValue? {
        let rules = try compileRules(
            """
            - name: r
              match: 'v=(?<v>.*)$'
              operation:
                action: identify
                identifiers: { id: "1" }
                attributes: { a: '\(template)' }
            """
        )
        let ops = operations(rules, line: "v=\(value)")
        return ops.first?["attributes"]?["a"]
    }

    @Test func plainFieldIsAString() throws {
        #expect(try attribute("{{v}}", value: "42") == .string("42"))
    }

    @Test func intFilter() throws {
        #expect(try attribute("{{v | int}}", value: "42") == .int(42))
        #expect(try attribute("{{v | int}}", value: " -7 ") == .int(-7))
        #expect(try attribute("{{v | int}}", value: "9.99") == .int(9))
    }

    @Test func floatFilter() throws {
        #expect(try attribute("{{v | float}}", value: "9.50") == .double(9.5))
        // 10.0 is written as the JSON number 10 (reads back as an integer).
        #expect(try attribute("{{v | float}}", value: "10") == .int(10))
    }

    @Test func boolFilter() throws {
        for (text, expected) in [
            ("true", true), ("YES", true), ("on", true), ("1", true), ("false", false), ("no", false), ("0", false),
        ] {
            #expect(try attribute("{{v | bool}}", value: text) == .bool(expected))
        }
    }

    @Test func textFilters() throws {
        #expect(try attribute("{{v | lower}}", value: "AbC") == .string("abc"))
        #expect(try attribute("{{v | upper}}", value: "AbC") == .string("ABC"))
        #expect(try attribute("{{v | trim}}", value: "  x y  ") == .string("x y"))
        #expect(try attribute("{{v | trim | upper}}", value: "  x ") == .string("X"))
    }

    @Test func defaultFilter() throws {
        #expect(try attribute(#"{{v | default("none")}}"#, value: "") == .string("none"))
        #expect(try attribute(#"{{v | default("none")}}"#, value: "set") == .string("set"))
        #expect(try attribute("{{v | default(0) | int}}", value: "") == .int(0))
    }

    @Test func mixedTextIsAString() throws {
        #expect(try attribute("user-{{v | int}}!", value: "7") == .string("user-7!"))
        #expect(try attribute("{{v}}/{{v}}", value: "a") == .string("a/a"))
    }

    @Test func specialFields() throws {
        #expect(try attribute("{{_path}}:{{_source}}", value: "x") == .string("/var/log/app.log:app"))
        #expect(try attribute("{{_line}}", value: "x") == .string("v=x"))
    }

    @Test func missingGroupLeavesAttributeOut() throws {
        let rules = try compileRules(
            """
            - name: r
              match: 'u=(?<u>\\d+)(?: v=(?<v>\\S+))?'
              operation:
                action: identify
                identifiers: { id: "{{u}}" }
                attributes: { v: "{{v}}", w: "w={{v}}" }
            """
        )
        #expect(operations(rules, line: "u=1").first?["attributes"] == .object([JSONMember("w", .string("w="))]))
    }

    @Test func unclosedExpression() {
        let errors = ruleErrors(
            """
            - name: r
              match: 'v=(?<v>.*)'
              operation: { action: identify, identifiers: { id: "{{v" } }
            """
        )
        #expect(errors == [#"rules.yml:3: rule "r": operation.identifiers.id: "{{" without a closing "}}" in "{{v""#])
    }

    /// What the rules make of `v=VALUE` with attribute `a` from `template`: the rejection reason.
    private func rejection(_ template: String, value: String) throws -> [String] {
        let rules = try compileRules(
            """
            - name: r
              match: 'v=(?<v>.*)$'
              operation:
                action: identify
                identifiers: { id: "1" }
                attributes: { a: '\(template)' }
            """
        )
        return outcomes(rules, line: "v=\(value)")
    }

    @Test func intFilterFailure() throws {
        #expect(
            try rejection("{{v | int}}", value: "abc") == [#"REJECTED r: attributes: field v: "abc" is not an integer"#]
        )
        #expect(try rejection("{{v | int}}", value: "") == [#"REJECTED r: attributes: field v: "" is not an integer"#])
    }

    @Test func boolFilterFailure() throws {
        #expect(
            try rejection("{{v | bool}}", value: "maybe") == [
                #"REJECTED r: attributes: field v: "maybe" is not a boolean"#
            ]
        )
    }

    @Test func floatFilterFailure() throws {
        #expect(
            try rejection("{{v | float}}", value: "9,50") == [
                #"REJECTED r: attributes: field v: "9,50" is not a number"#
            ])
    }
}
