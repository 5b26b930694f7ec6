import Testing

@testable import TailTrack

@Suite struct ValueSpecYAMLTests {
    private func parse(_ text: String, environment: [String: String] = [:]) throws(ConfigErrors) -> ValueSpec {
        try ValueSpec.parseYAML(text, file: "rules.yml", environment: environment)
    }

    private func errors(_ text: String, environment: [String: String] = [:]) -> [String] {
        do {
            _ = try parse(text, environment: environment)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func plainScalarsAreTypedByTheCoreSchema() throws {
        let spec = try parse(
            """
            int: 7
            negative: -3
            hex: 0x1F
            double: 9.5
            exponent: 1e3
            yes: true
            no: False
            tilde: ~
            null: null
            empty:
            text: hello
            on: on
            version: 1.2.3
            """
        )
        let kinds = (spec.members ?? []).map(\.value.kind)
        #expect(
            kinds == [
                .int(7), .int(-3), .int(31), .double(9.5), .double(1000), .bool(true), .bool(false), .null, .null,
                .null, .string("hello"), .string("on"), .string("1.2.3"),
            ]
        )
    }

    @Test func quotedScalarsStayStrings() throws {
        let spec = try parse(
            """
            a: "7"
            b: 'true'
            c: "~"
            d: !!str 9.5
            e: !!int "12"
            f: |
              7
            """
        )
        let kinds = (spec.members ?? []).map(\.value.kind)
        #expect(kinds == [.string("7"), .string("true"), .string("~"), .string("9.5"), .int(12), .string("7")])
    }

    @Test func locationsAreOneBasedLinesOfTheFile() throws {
        let spec = try parse(
            """
            # comment
            rules:
              - name: purchase
                sources: [app]
            """
        )
        let rules = try #require(spec["rules"])
        #expect(rules.keyLocation == SourceLocation(file: "rules.yml", line: 2, column: 1))
        guard case .array(let items) = rules.value.kind else {
            Issue.record("expected a list")
            return
        }
        #expect(items[0].location.line == 3)
        #expect(items[0]["sources"]?.keyLocation.line == 4)
        #expect(items[0]["sources"]?.value.location.line == 4)
    }

    @Test func environmentSubstitutionInEveryString() throws {
        let spec = try parse(
            """
            site: "${SITE}"
            plain: ${COUNT}
            nested: { list: ["a${SITE}", '$$'] }
            """,
            environment: ["SITE": "s1", "COUNT": "7"]
        )
        #expect(
            spec.jsonValue
                == .object([
                    JSONMember("site", .string("s1")),
                    // A substituted plain scalar stays a string: typed readers accept strings.
                    JSONMember("plain", .string("7")),
                    JSONMember("nested", .object([JSONMember("list", .array([.string("as1"), .string("$")]))])),
                ])
        )
    }

    @Test func unsetVariablesAreAllReportedWithTheirKeyPaths() {
        #expect(
            errors(
                """
                track:
                  site_id: x
                  api_key: ${CIO_API_KEY}
                sources:
                  - name: ${NAME}
                """
            ) == [
                "rules.yml:3: track.api_key: environment variable CIO_API_KEY is not set",
                "rules.yml:5: sources[0].name: environment variable NAME is not set",
            ]
        )
    }

    @Test func anchorsAndMergeKeys() throws {
        let spec = try parse(
            """
            base: &base { type: person, action: event }
            rule:
              <<: *base
              action: identify
            copy: *base
            """
        )
        #expect(
            spec["rule"]?.value.jsonValue
                == .object([JSONMember("action", .string("identify")), JSONMember("type", .string("person"))])
        )
        #expect(spec["copy"]?.value.jsonValue == spec["base"]?.value.jsonValue)
    }

    @Test func duplicateKeysNameTheSecondLine() {
        #expect(
            errors(
                """
                batch:
                  max_bytes: 1000
                  flush_interval: 1s
                  max_bytes: 2000
                """
            ) == ["rules.yml:4: duplicate key \"max_bytes\" (first written at line 2)"]
        )
        #expect(errors("{a: 1, a: 2}") == ["rules.yml:1: duplicate key \"a\""])
    }

    @Test func syntaxErrorsCarryTheLineYamsReports() {
        #expect(
            errors(
                """
                track:
                  region: us
                 url: x
                """
            ) == ["rules.yml:3: invalid YAML: did not find expected key (while parsing a block mapping at line 1)"]
        )
        #expect(
            errors("a: [1, 2\nb: 3\n")
                == [
                    "rules.yml:2: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 1)"
                ]
        )
    }

    @Test func emptyDocumentIsNull() throws {
        #expect(try parse("").kind == .null)
        #expect(try parse("# only a comment\n").kind == .null)
    }
}
