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
        // Written in the rule, `check` rejects it (RuleCompilerTests); from a JSON field, the line does.
        let rules = try compileRules(
            """
            - name: m
              parse: json
              operation: { action: merge, primary: "{{p}}", secondary: { id: "{{s}}" } }
            """
        )
        #expect(
            outcomes(rules, line: #"{"p":{"user":"1"},"s":"2"}"#) == [
                #"REJECTED m: primary: "user" is not one of id, email, cio_id"#
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

    // Attribute names over 150 bytes and more than 300 attributes can only be written in the
    // rule (names are never templates): `check` rejects them (RuleCompilerTests).

    @Test func operationSizeLimit() throws {
        let attributes = (0..<40).map { "a\($0): \"{{v}}\"" }.joined(separator: ", ")
        let rules = try eventRule(attributes: "{ \(attributes) }")
        let value = String(repeating: "x", count: 900)
        let result = outcomes(rules, line: "u=1 n=x v=\(value)")
        #expect(result.count == 1)
        #expect(result.first?.hasPrefix("REJECTED r: operation is ") == true)
        #expect(result.first?.hasSuffix(" bytes encoded; Track allows 32000") == true)
    }

    /// The byte encoder and the template path check the operation limit through the same
    /// predicate: exactly 32,000 bytes is sent by both, one byte more is rejected by both.
    @Test func operationSizeLimitIsTheSameOnBothPaths() throws {
        let attributes = (0..<39).map { "a\($0): \"{{v}}\"" }.joined(separator: ", ")
        let rules = try compileRules(
            """
            - name: r
              match: 'u=(?<u>\\S*) w=(?<w>\\S*) v=(?<v>.*)'
              operation:
                action: event
                identifiers: { id: "{{u}}" }
                name: x
                attributes: { \(attributes), last: "{{w}}" }
            """
        )
        let value = String(repeating: "x", count: 800)
        func line(lastBytes: Int) -> String { "u=1 w=\(String(repeating: "y", count: lastBytes)) v=\(value)" }
        let withoutLast = try #require(outcomes(rules, line: line(lastBytes: 0)).first)
        let lastBytes = TrackLimits.operationBytes - withoutLast.utf8.count
        try #require((0...TrackLimits.attributeValueBytes - 1).contains(lastBytes))

        for usesEncoders in [true, false] {
            let evaluator = RuleEvaluator(ruleSet: rules, usesEncoders: usesEncoders)
            var results: [String] = []
            for bytes in [lastBytes, lastBytes + 1] {
                Array(line(lastBytes: bytes).utf8).withUnsafeBytes { buffer in
                    evaluator.evaluate(
                        buffer, source: "app", path: "/var/log/app.log",
                        fingerprint: FileFingerprint(value: 1, length: 1), offset: 0, readTime: testReadTime
                    ) { outcome in
                        switch outcome {
                        case .operation(let operation): results.append("\(operation.bytes.count) bytes")
                        case .rejected(let rejection): results.append(rejection.reason)
                        }
                    }
                }
            }
            #expect(
                results == ["32000 bytes", "operation is 32001 bytes encoded; Track allows 32000"],
                "usesEncoders: \(usesEncoders)")
            #expect(evaluator.encoderFallbacks == (usesEncoders ? 1 : 0))
        }
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

    // MARK: - Every rejection, worded exactly

    @Test func implausibleTimestamp() throws {
        let rules = try compileRules(
            """
            - name: r
              match: 'u=(?<u>\\d+) t=(?<t>\\S*)'
              operation: { action: identify, identifiers: { id: "{{u}}" }, timestamp: { field: t, format: unix } }
            """
        )
        #expect(
            outcomes(rules, line: "u=1 t=12")
                == [
                    "REJECTED r: timestamp 12 is not plausible unix seconds (expected 2000…2100); check the timestamp format"
                ]
        )
        // Milliseconds read as seconds.
        #expect(
            outcomes(rules, line: "u=1 t=1795341600123")
                == [
                    "REJECTED r: timestamp 1795341600123 is not plausible unix seconds (expected 2000…2100); check the timestamp format"
                ]
        )
        #expect(operations(rules, line: "u=1 t=1795341600").first?["timestamp"] == .int(1_795_341_600))
    }

    @Test func missingTimestampFieldIsTheReadTimeButAnEmptyOneIsRejected() throws {
        let rules = try compileRules(
            """
            - name: r
              match: 'u=(?<u>\\d+)(?: t=(?<t>\\S*))?'
              operation:
                action: event
                identifiers: { id: "{{u}}" }
                name: seen
                timestamp: { field: t, format: rfc3339 }
            """
        )
        #expect(operations(rules, line: "u=1").first?["timestamp"] == .int(testReadTime))
        #expect(
            outcomes(rules, line: "u=1 t=") == [#"REJECTED r: timestamp field t: "" does not match format rfc3339"#])
        #expect(
            operations(rules, line: "u=1 t=2026-11-22T09:00:00Z").first?["timestamp"] == .int(testReadTime - 3600))
    }

    @Test func deliveryEventWithAnEmptyDeviceToken() throws {
        let rules = try compileRules(
            """
            - name: d
              match: 'dlv=(?<d>\\w+) tok=(?<t>\\w*)'
              operation:
                type: delivery
                action: event
                identifiers: { id: "{{d}}" }
                name: opened
                attributes: { device_token: "{{t}}" }
            """
        )
        #expect(outcomes(rules, line: "dlv=x tok=") == ["REJECTED d: delivery events need attributes.device_token"])
    }

    @Test func objectTypeIDMissingOrEmpty() throws {
        let rules = try compileRules(
            """
            - name: o
              match: 'type=(?<t>\\w*)(?: id=(?<o>\\w*))?'
              operation:
                type: object
                action: identify
                identifiers: { object_type_id: "{{t}}", object_id: "{{o}}" }
            """
        )
        #expect(
            outcomes(rules, line: "type= id=acme") == ["REJECTED o: identifiers.object_type_id is missing or empty"])
        #expect(outcomes(rules, line: "type=1") == ["REJECTED o: identifiers.object_id is missing or empty"])
    }

    @Test func anonymousRelationshipWithoutAnonymousID() throws {
        let rules = try compileRules(
            """
            - name: o
              match: 'o=(?<o>\\w+) a=(?<a>\\w*)'
              operation:
                type: object
                action: identify_anonymous
                identifiers: { object_type_id: "1", object_id: "{{o}}" }
                relationships: [{ identifiers: { anonymous_id: "{{a}}" } }]
            """
        )
        #expect(
            outcomes(rules, line: "o=acme a=")
                == ["REJECTED o: relationships[0].identifiers.anonymous_id is missing or empty"])
    }

    @Test func deviceWithoutToken() throws {
        let rules = try compileRules(
            """
            - name: dev
              match: 'u=(?<u>\\d+) tok=(?<t>\\S*)'
              operation:
                action: add_device
                identifiers: { id: "{{u}}" }
                device: { token: "{{t}}", platform: ios }
            """
        )
        #expect(outcomes(rules, line: "u=1 tok=") == ["REJECTED dev: device.token is missing or empty"])
    }

    @Test func emptyEventName() throws {
        #expect(outcomes(try eventRule(), line: "u=1 n= v=") == ["REJECTED r: name is empty"])
    }

    @Test func emptyRelationships() throws {
        let rules = try compileRules(
            """
            - name: rel
              parse: json
              operation: { action: add_relationships, identifiers: { id: "{{id}}" }, relationships: ["{{rel}}"] }
            """
        )
        #expect(outcomes(rules, line: #"{"id":1}"#) == ["REJECTED rel: relationships is empty"])
        #expect(
            outcomes(rules, line: #"{"id":1,"rel":{"identifiers":{"object_type_id":"2","object_id":"c"}}}"#)
                == [
                    #"{"type":"person","action":"add_relationships","identifiers":{"id":"1"},"cio_relationships":[{"identifiers":{"object_type_id":"2","object_id":"c"}}]}"#
                ]
        )
    }
}
