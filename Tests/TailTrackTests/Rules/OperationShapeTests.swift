import Testing

@testable import TailTrack

/// Every action a rule can drive, checked against the exact JSON it sends.
@Suite struct OperationShapeTests {
    /// One regex rule over `k=v` lines with the given operation YAML (indented under `operation:`).
    private func rule(_ operation: String, match: String = "u=(?<u>\\w*)(?: e=(?<e>\\S*))?(?: v=(?<v>.*))?") throws
        -> RuleSet
    {
        try compileRules(
            """
            - name: r
              match: '\(match)'
              operation:
            \(operation.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            """
        )
    }

    @Test func personIdentify() throws {
        let rules = try rule(
            """
            action: identify
            identifiers: { id: "{{u}}" }
            attributes: { email: "{{e | lower}}", vip: true, score: 3 }
            """
        )
        #expect(
            outcomes(rules, line: "u=42 e=A@B.C")
                == [
                    #"{"type":"person","action":"identify","identifiers":{"id":"42"},"timestamp":1795341600,"attributes":{"email":"a@b.c","vip":true,"score":3}}"#
                ]
        )
    }

    @Test func personEventHasStableULID() throws {
        let rules = try rule(
            "action: event\nidentifiers: { id: \"{{u}}\" }\nname: purchase\nattributes: { amount: \"{{v | float}}\" }")
        let first = operations(rules, line: "u=7 e=x v=9.50", offset: 100)
        let again = operations(rules, line: "u=7 e=x v=9.50", offset: 100)
        let elsewhere = operations(rules, line: "u=7 e=x v=9.50", offset: 200)
        #expect(first.count == 1)
        guard case .string(let id)? = first.first?["id"] else {
            Issue.record("no id in \(first)")
            return
        }
        #expect(id.utf8.count == 26)
        #expect(first == again)
        #expect(elsewhere.first?["id"] != first.first?["id"])
        #expect(first.first?["name"] == .string("purchase"))
        #expect(first.first?["attributes"] == .object([JSONMember("amount", .double(9.5))]))
    }

    @Test(arguments: ["page", "screen"])
    func pageAndScreen(action: String) throws {
        let rules = try rule("action: \(action)\nidentifiers: { id: \"{{u}}\" }\nname: \"/home\"")
        let ops = operations(rules, line: "u=7")
        #expect(ops.first?["action"] == .string(action))
        #expect(ops.first?["name"] == .string("/home"))
        #expect(ops.first?["id"] != nil)
    }

    @Test(arguments: ["delete", "suppress", "unsuppress"])
    func identifiersOnly(action: String) throws {
        let rules = try rule("action: \(action)\nidentifiers: { email: \"{{e}}\" }")
        #expect(
            outcomes(rules, line: "u=1 e=a@b.c")
                == [#"{"type":"person","action":"\#(action)","identifiers":{"email":"a@b.c"}}"#]
        )
    }

    @Test(arguments: ["add_relationships", "delete_relationships"])
    func personRelationships(action: String) throws {
        let rules = try rule(
            """
            action: \(action)
            identifiers: { id: "{{u}}" }
            relationships:
              - identifiers: { object_type_id: 1, object_id: "{{e}}" }
                attributes: { role: admin }
            """
        )
        #expect(
            outcomes(rules, line: "u=42 e=acme")
                == [
                    #"{"type":"person","action":"\#(action)","identifiers":{"id":"42"},"cio_relationships":[{"identifiers":{"object_type_id":"1","object_id":"acme"},"relationship_attributes":{"role":"admin"}}]}"#
                ]
        )
    }

    @Test func addAndDeleteDevice() throws {
        let add = try rule(
            "action: add_device\nidentifiers: { id: \"{{u}}\" }\ndevice: { token: \"{{e}}\", platform: ios, last_used: \"{{v | int}}\" }"
        )
        #expect(
            outcomes(add, line: "u=42 e=tok v=1795341600")
                == [
                    #"{"type":"person","action":"add_device","identifiers":{"id":"42"},"device":{"token":"tok","platform":"ios","last_used":1795341600}}"#
                ]
        )
        #expect(
            outcomes(add, line: "u=42 e=tok v=1")  // platform fixed, fine
                .count == 1
        )
        let badPlatform = try rule(
            "action: add_device\nidentifiers: { id: \"{{u}}\" }\ndevice: { token: \"{{e}}\", platform: \"{{v}}\" }")
        #expect(
            outcomes(badPlatform, line: "u=42 e=tok v=windows") == [
                #"REJECTED r: device.platform "windows" is not ios or android"#
            ])
        let delete = try rule("action: delete_device\nidentifiers: { id: \"{{u}}\" }\ndevice: { token: \"{{e}}\" }")
        #expect(
            outcomes(delete, line: "u=42 e=tok")
                == [#"{"type":"person","action":"delete_device","identifiers":{"id":"42"},"device":{"token":"tok"}}"#]
        )
    }

    @Test func merge() throws {
        let rules = try rule("action: merge\nprimary: { id: \"{{u}}\" }\nsecondary: { email: \"{{e}}\" }")
        #expect(
            outcomes(rules, line: "u=42 e=old@b.c")
                == [#"{"type":"person","action":"merge","primary":{"id":"42"},"secondary":{"email":"old@b.c"}}"#]
        )
        #expect(
            outcomes(rules, line: "u= e=old@b.c")
                == ["REJECTED r: primary must have exactly one non-empty of id, email, cio_id; none is set"]
        )
    }

    @Test func objectIdentifyWithRelationships() throws {
        let rules = try rule(
            """
            type: object
            action: identify
            identifiers: { object_type_id: "1", object_id: "{{u}}" }
            attributes: { name: "{{v}}" }
            relationships: [{ identifiers: { id: "{{e}}" } }]
            """
        )
        #expect(
            outcomes(rules, line: "u=acme e=42 v=Acme Corp")
                == [
                    #"{"type":"object","action":"identify","identifiers":{"object_type_id":"1","object_id":"acme"},"attributes":{"name":"Acme Corp"},"cio_relationships":[{"identifiers":{"id":"42"}}]}"#
                ]
        )
    }

    @Test func objectIdentifyAnonymous() throws {
        let rules = try rule(
            """
            type: object
            action: identify_anonymous
            identifiers: { object_type_id: "1", object_id: "{{u}}" }
            relationships: [{ identifiers: { anonymous_id: "{{e}}" } }]
            """
        )
        #expect(
            outcomes(rules, line: "u=acme e=anon-1")
                == [
                    #"{"type":"object","action":"identify_anonymous","identifiers":{"object_type_id":"1","object_id":"acme"},"cio_relationships":[{"identifiers":{"anonymous_id":"anon-1"}}]}"#
                ]
        )
    }

    @Test func objectDeleteByCioObjectID() throws {
        let rules = try rule("type: object\naction: delete\nidentifiers: { cio_object_id: \"{{u}}\" }")
        #expect(
            outcomes(rules, line: "u=abc")
                == [#"{"type":"object","action":"delete","identifiers":{"cio_object_id":"abc"}}"#]
        )
    }

    @Test(arguments: ["add_relationships", "delete_relationships"])
    func objectRelationships(action: String) throws {
        let rules = try rule(
            """
            type: object
            action: \(action)
            identifiers: { object_type_id: "2", object_id: "{{u}}" }
            relationships: [{ identifiers: { email: "{{e}}" }, relationship_attributes: { seat: 1 } }]
            """
        )
        #expect(
            outcomes(rules, line: "u=course7 e=a@b.c")
                == [
                    #"{"type":"object","action":"\#(action)","identifiers":{"object_type_id":"2","object_id":"course7"},"cio_relationships":[{"identifiers":{"email":"a@b.c"},"relationship_attributes":{"seat":1}}]}"#
                ]
        )
    }

    @Test func deliveryEvent() throws {
        let rules = try rule(
            "type: delivery\naction: event\nidentifiers: { id: \"{{u}}\" }\nname: \"{{v}}\"\nattributes: { device_token: \"{{e}}\" }"
        )
        #expect(
            outcomes(rules, line: "u=dlv1 e=tok v=opened")
                == [
                    #"{"type":"delivery","action":"event","identifiers":{"id":"dlv1"},"name":"opened","attributes":{"device_token":"tok"}}"#
                ]
        )
        #expect(
            outcomes(rules, line: "u=dlv1 e=tok v=clicked")
                == [#"REJECTED r: name "clicked" is not a delivery event (opened, converted, delivered)"#]
        )
    }
}
