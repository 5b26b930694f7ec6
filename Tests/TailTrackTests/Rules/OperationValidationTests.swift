import Testing

@testable import TailTrack

/// What Track would reject (or silently change) is rejected before the wire, with a reason.
@Suite struct OperationValidationTests {
    private func eventRule(
        attributes: String = "{}", identifiers: String = "{ id: \"{{u}}\" }", name: String = "\"{{n}}\""
    ) throws -> RuleSet {
        try compileRules(
            """
            - name: r
              match: 'u=(?<u>\\S*) n=(?<n>\\S*) v=(?<v>.*)'
              operation:
                action: event
                identifiers: \(identifiers)
                name: \(name)
                attributes: \(attributes)
            """
        )
    }

    @Test func noIdentifier() throws {
        #expect(
            outcomes(try eventRule(), line: "u= n=x v=")
                == ["REJECTED r: identifiers must have exactly one non-empty of id, email, phone, cio_id; none is set"]
        )
    }

    @Test func twoIdentifiers() throws {
        let rules = try eventRule(identifiers: "{ id: \"{{u}}\", email: \"{{v}}\" }")
        #expect(
            outcomes(rules, line: "u=1 n=x v=a@b.c")
                == [
                    "REJECTED r: identifiers must have exactly one non-empty of id, email, phone, cio_id; got id and email"
                ]
        )
        // The empty one is dropped: either identifier works alone.
        #expect(
            operations(rules, line: "u= n=x v=a@b.c").first?["identifiers"]
                == .object([JSONMember("email", .string("a@b.c"))]))
    }

    @Test func unknownIdentifierKey() throws {
        let rules = try eventRule(identifiers: "{ user: \"{{u}}\" }")
        #expect(
            outcomes(rules, line: "u=1 n=x v=") == [
                #"REJECTED r: identifiers: "user" is not one of id, email, phone, cio_id"#
            ])
    }

    @Test func eventNameLimit() throws {
        let rules = try eventRule()
        let hundred = String(repeating: "a", count: 100)
        #expect(operations(rules, line: "u=1 n=\(hundred) v=").count == 1)
        #expect(outcomes(rules, line: "u=1 n=\(hundred)b v=") == ["REJECTED r: name is 101 bytes; Track allows 100"])
        #expect(outcomes(rules, line: "u=1 n= v=") == ["REJECTED r: name is empty"])
    }

    @Test func attributeValueLimit() throws {
        let rules = try eventRule(attributes: "{ note: \"{{v}}\" }")
        let thousand = String(repeating: "é", count: 500)  // 1000 bytes
        #expect(operations(rules, line: "u=1 n=x v=\(thousand)").count == 1)
        #expect(
            outcomes(rules, line: "u=1 n=x v=\(thousand)x") == [
                "REJECTED r: attribute note is 1001 bytes; Track allows 1000"
            ])
    }

    @Test func attributeNameLimit() throws {
        let longName = String(repeating: "k", count: 151)
        let rules = try eventRule(attributes: "{ \(longName): 1 }")
        #expect(
            outcomes(rules, line: "u=1 n=x v=")
                == ["REJECTED r: attribute name \"\(longName.prefix(40))…\" is 151 bytes; Track allows 150"]
        )
    }

    @Test func attributeCountLimit() throws {
        let many = (0..<301).map { "a\($0): \($0)" }.joined(separator: ", ")
        let rules = try eventRule(attributes: "{ \(many) }")
        #expect(outcomes(rules, line: "u=1 n=x v=") == ["REJECTED r: 301 attributes; Track allows 300"])
    }

    @Test func operationSizeLimit() throws {
        let attributes = (0..<40).map { "a\($0): \"{{v}}\"" }.joined(separator: ", ")
        let rules = try eventRule(attributes: "{ \(attributes) }")
        let value = String(repeating: "x", count: 900)
        let result = outcomes(rules, line: "u=1 n=x v=\(value)")
        #expect(result.count == 1)
        #expect(result.first?.hasPrefix("REJECTED r: operation is ") == true)
        #expect(result.first?.hasSuffix(" bytes encoded; Track allows 32000") == true)
    }

    @Test func filterFailureIsARejectionNamingTheField() throws {
        let rules = try eventRule(attributes: "{ amount: \"{{v | float}}\" }")
        #expect(outcomes(rules, line: "u=1 n=x v=abc") == [#"REJECTED r: attributes: field v: "abc" is not a number"#])
    }

    @Test func escapingInOutput() throws {
        let rules = try eventRule(attributes: "{ note: \"{{v}}\" }")
        let ops = outcomes(rules, line: "u=1 n=x v=say \"hi\"\\\t\u{1}é")
        #expect(ops.first?.contains(#""note":"say \"hi\"\\\t\u0001é""#) == true)
    }

    @Test func invalidUTF8BecomesReplacementCharacter() throws {
        let rules = try eventRule(attributes: "{ note: \"{{v}}\" }")
        var line = Array("u=1 n=x v=a".utf8)
        line.append(0xFF)
        line.append(UInt8(ascii: "b"))
        let evaluator = rules.makeEvaluator()
        var texts: [String] = []
        line.withUnsafeBytes { bytes in
            evaluator.evaluate(
                bytes, source: "app", path: "p", fingerprint: FileFingerprint(value: 1, length: 1), offset: 0,
                readTime: testReadTime
            ) {
                if case .operation(let operation) = $0 {
                    texts.append(String(decoding: operation.bytes, as: UTF8.self))
                }
            }
        }
        #expect(texts.first?.contains("\"note\":\"a\u{FFFD}b\"") == true)
    }
}
