import Testing

@testable import TailTrack

/// `parse: json` and `parse: logfmt` rules: dotted paths, types kept, where: forms.
@Suite struct StructuredRuleTests {
    @Test func jsonFieldsKeepTheirTypesAndNestedPathsWork() throws {
        let rules = try compileRules(
            """
            - name: order
              parse: json
              where: { msg: { equals: "order placed" }, level: { one_of: [info, notice] } }
              operation:
                action: event
                identifiers: { id: "{{user.id}}" }
                name: order
                timestamp: { field: ts, format: unix }
                attributes:
                  amount: "{{order.amount}}"
                  first_sku: "{{order.items.0.sku}}"
                  items: "{{order.items}}"
                  paid: "{{order.paid}}"
                  label: "order {{order.id}} for {{user.id}}"
            """
        )
        let line =
            #"{"ts":1795341600,"level":"info","msg":"order placed","user":{"id":42},"order":{"id":"o-1","amount":19.5,"paid":true,"items":[{"sku":"A"},{"sku":"B"}]}}"#
        let ops = operations(rules, line: line)
        #expect(ops.count == 1)
        #expect(ops.first?["identifiers"] == .object([JSONMember("id", .string("42"))]))
        #expect(ops.first?["timestamp"] == .int(1_795_341_600))
        #expect(
            ops.first?["attributes"]
                == .object([
                    JSONMember("amount", .double(19.5)),
                    JSONMember("first_sku", .string("A")),
                    JSONMember(
                        "items",
                        .array([.object([JSONMember("sku", .string("A"))]), .object([JSONMember("sku", .string("B"))])])
                    ),
                    JSONMember("paid", .bool(true)),
                    JSONMember("label", .string("order o-1 for 42")),
                ]))
        #expect(operations(rules, line: line.replacingFirstOccurrence("\"info\"", "\"debug\"")).isEmpty)
        #expect(operations(rules, line: "not json").isEmpty)
    }

    @Test func logfmtValuesAreTextUntilFiltered() throws {
        let rules = try compileRules(
            """
            - name: renew
              parse: logfmt
              where: { msg: "subscription renewed", status: 200 }
              operation:
                action: event
                identifiers: { id: "{{user_id}}" }
                name: renewed
                timestamp: { field: time, format: rfc3339 }
                attributes: { amount: "{{amount | float}}", raw: "{{amount}}", flag: "{{debug}}", note: "{{msg | upper}}" }
            """
        )
        let ops = operations(
            rules,
            line: #"time=2026-11-22T10:00:00Z msg="subscription renewed" status=200 user_id=42 amount=49.00 debug"#)
        #expect(ops.first?["timestamp"] == .int(1_795_341_600))
        #expect(
            ops.first?["attributes"]
                == .object([
                    JSONMember("amount", .int(49)),  // 49.0 is written as 49
                    JSONMember("raw", .string("49.00")),
                    JSONMember("flag", .bool(true)),
                    JSONMember("note", .string("SUBSCRIPTION RENEWED")),
                ]))
        #expect(operations(rules, line: #"msg="subscription renewed" status=500 user_id=42"#).isEmpty)
    }

    @Test func stringFilterTurnsANumberIntoText() throws {
        let rules = try compileRules(
            """
            - name: r
              parse: json
              operation: { action: identify, identifiers: { id: "{{id}}" }, attributes: { zip: "{{zip | string}}" } }
            """
        )
        #expect(
            operations(rules, line: #"{"id":1,"zip":12345}"#).first?["attributes"]
                == .object([JSONMember("zip", .string("12345"))]))
    }

    @Test func timestampFieldMissingIsTheReadTimeMalformedIsARejection() throws {
        let rules = try compileRules(
            """
            - name: r
              parse: json
              operation: { action: identify, identifiers: { id: "{{id}}" }, timestamp: { field: ts, format: rfc3339 } }
            """
        )
        // DESIGN: "when absent: time the line was read"; the same for a line without the field.
        for line in [#"{"id":1}"#, #"{"id":1,"ts":null}"#] {
            #expect(
                outcomes(rules, line: line)
                    == [#"{"type":"person","action":"identify","identifiers":{"id":"1"},"timestamp":1795341600}"#])
        }
        #expect(
            outcomes(rules, line: #"{"id":1,"ts":"yesterday"}"#)
                == [#"REJECTED r: timestamp field ts: "yesterday" does not match format rfc3339"#])
    }

    @Test func ruleTestRunnerReportsShadowingAndDifferences() throws {
        let rules = try compileRules(
            """
            - name: catch_all
              match: 'user=(?<u>\\d+)'
              operation: { action: delete, identifiers: { id: "{{u}}" } }
            - name: buy
              match: 'buy user=(?<u>\\d+)'
              operation: { action: event, identifiers: { id: "{{u}}" }, name: buy }
              tests:
                - line: "buy user=1"
                  expect: { name: buy }
            - name: typed
              match: 'n=(?<n>\\d+)'
              operation: { action: identify, identifiers: { id: "1" }, attributes: { n: "{{n}}" } }
              tests:
                - line: "n=5"
                  expect: { attributes: { n: 5 } }
                - line: "nothing"
                  expect: no_match
            """
        )
        let results = RuleTestRunner(ruleSet: rules, defaultSource: "app").run(readTime: testReadTime)
        #expect(results.map(\.passed) == [false, false, true])
        #expect(
            results[0].failure
                == "the line was taken by rule \"catch_all\" first (put this rule earlier, or add `continue: true` there)"
        )
        #expect(results[1].failure?.hasPrefix("attributes.n: expected 5 (a number), got \"5\" (a string)") == true)
    }
}

extension String {
    fileprivate func replacingFirstOccurrence(_ target: String, _ replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        return self[..<range.lowerBound] + replacement + self[range.upperBound...]
    }
}
