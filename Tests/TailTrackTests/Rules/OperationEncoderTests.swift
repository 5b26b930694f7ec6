import Testing
import TrackTestServer

@testable import TailTrack

/// The byte encoder writes exactly what the `JSONValue` path writes, for every template shape
/// and filter, and leaves rejections (with their reasons) to the template.
@Suite struct OperationEncoderTests {
    /// Everything the rules did with one line, in a form two evaluators can be compared on.
    private struct Outcome: Equatable, CustomStringConvertible {
        var text: String
        var description: String { text }
    }

    private static func outcomes(
        _ evaluator: RuleEvaluator,
        line: [UInt8],
        source: String = "app",
        offset: UInt64 = 7
    ) -> [Outcome] {
        var results: [Outcome] = []
        line.withUnsafeBytes { bytes in
            evaluator.evaluate(
                bytes,
                source: source,
                path: "/var/log/app \"1\".log",
                fingerprint: FileFingerprint(value: 0x1234_5678, length: 99),
                offset: offset,
                readTime: testReadTime
            ) { outcome in
                switch outcome {
                case .operation(let operation):
                    results.append(
                        Outcome(text: "OP \(operation.rule) \(String(decoding: operation.bytes, as: UTF8.self))"))
                case .rejected(let rejection):
                    results.append(
                        Outcome(
                            text:
                                "REJECTED \(rejection.rule): \(rejection.reason) \(String(decoding: rejection.bytes, as: UTF8.self))"
                        ))
                }
            }
        }
        return results
    }

    /// Runs `lines` through both paths; returns how many taken lines the encoder handled itself.
    @discardableResult
    private static func expectSameOutput(
        _ rules: RuleSet,
        _ lines: [[UInt8]],
        source: String = "app",
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> (encoded: Int, fellBack: Int) {
        let fast = rules.makeEvaluator()
        let slow = RuleEvaluator(ruleSet: rules, usesEncoders: false)
        for (index, line) in lines.enumerated() {
            let expected = outcomes(slow, line: line, source: source, offset: UInt64(index))
            let actual = outcomes(fast, line: line, source: source, offset: UInt64(index))
            #expect(
                actual == expected, "line \(String(decoding: line, as: UTF8.self).debugDescription)",
                sourceLocation: sourceLocation)
        }
        #expect(fast.stats == slow.stats, sourceLocation: sourceLocation)
        let taken = fast.stats.perRule.reduce(0) { $0 + $1.matched }
        return (taken - fast.encoderFallbacks, fast.encoderFallbacks)
    }

    // MARK: - Regex rules

    private static let pattern =
        #"^a=(?<a>[^|]*)\|b=(?<b>[^|]*)\|c=(?<c>[^|]*)(?:\|d=(?<d>.*))?$"#

    private static func regexRule(
        action: String = "event",
        identifiers: String = #"{ id: "{{a}}" }"#,
        name: String? = #""{{b}}""#,
        timestamp: String? = nil,
        attributes: String? = nil
    ) -> String {
        var yaml = """
            - name: r
              match: '\(pattern)'
              operation:
                action: \(action)
                identifiers: \(identifiers)

            """
        if let name { yaml += "    name: \(name)\n" }
        if let timestamp { yaml += "    timestamp: \(timestamp)\n" }
        if let attributes { yaml += "    attributes: \(attributes)\n" }
        return yaml
    }

    /// Values that exercise escaping, filters' edge cases, UTF-8 and the limits.
    private static let values: [[UInt8]] = {
        var values: [String] = [
            "", "1", "42", "-7", "+3", "007", "-0", "1.5", "12.50", "-0.0", "0.001", "0.0001", "0.25", "00.050",
            "1e3", "1E-7", "0x10", " 12 ", "\t5\t", "\r\n8", "9999999999999999999", "123456789012345678",
            "1234567890123456.7", "123456789012345", "12345678901234.5", "999999999999999.9", ".5", "5.", "+", "-",
            "inf", "nan", "true", "Yes", "OFF", " y ", "T", "maybe", "ALICE@Example.COM", "é", "ÉCOLE", "straße",
            "İstanbul", "ǅ", "\u{212A}elvin", "quo\"te", "back\\slash", "tab\there", "ctl\u{01}x\u{1F}", "del\u{7F}",
            " \u{301}x", "2026-11-22T10:00:00Z", "2026-11-22T10:00:00.5+01:00", "1999-01-01T00:00:00Z",
            "1795341600", "1795341600.5", "17953416000000", "user 1", "  ", "\u{0}", "emoji 😀",
            String(repeating: "n", count: 100), String(repeating: "n", count: 101),
            String(repeating: "v", count: 1000), String(repeating: "v", count: 1001),
            String(repeating: "é", count: 500), String(repeating: "é", count: 501),
        ]
        values += ["trUE", "No", "oN", "F", "0", "1.0", "-1.25", "100", "3.14159", "0.1", "7"]
        var bytes = values.map { Array($0.utf8) }
        bytes.append([0xFF, 0x41])  // invalid UTF-8
        bytes.append([0x41, 0xC3])  // truncated sequence
        bytes.append([0xED, 0xA0, 0x80])  // a surrogate
        bytes.append([0x20, 0xC3, 0xA9, 0x20])
        return bytes
    }()

    private static func line(_ a: [UInt8], _ b: [UInt8], _ c: [UInt8], _ d: [UInt8]?) -> [UInt8] {
        var line = Array("a=".utf8) + a + Array("|b=".utf8) + b + Array("|c=".utf8) + c
        if let d { line += Array("|d=".utf8) + d }
        return line
    }

    /// Deterministic pseudo-random lines over ``values``.
    private static func lines(count: Int, seed: UInt64) -> [[UInt8]] {
        var generator = SplitMix64(seed: seed)
        var result: [[UInt8]] = []
        let ordinary = [Array("42".utf8), Array("purchase".utf8), Array("12.5".utf8)]
        for _ in 0..<count {
            func pick() -> [UInt8] {
                generator.next() % 3 == 0
                    ? ordinary[Int(generator.next() % 3)] : values[Int(generator.next() % UInt64(values.count))]
            }
            let a = pick()
            let b = pick()
            let c = pick()
            let d: [UInt8]? = generator.next() % 3 == 0 ? nil : pick()
            result.append(line(a, b, c, d))
        }
        // Every value in every position at least once.
        for value in values {
            result.append(line(value, Array("buy".utf8), value, value))
            result.append(line(Array("1".utf8), value, Array("2".utf8), nil))
        }
        return result
    }

    @Test(arguments: [
        #"{ s: "{{c}}" }"#,
        #"{ s: "{{c | string}}", t: "{{c | trim}}" }"#,
        #"{ l: "{{c | lower}}", u: "{{c | upper}}", tl: "{{c | trim | lower}}", ut: "{{c | upper | trim}}" }"#,
        #"{ i: "{{c | int}}" }"#,
        #"{ f: "{{c | float}}" }"#,
        #"{ b: "{{c | bool}}" }"#,
        #"{ d: "{{d}}", dd: "{{d | default(\"none\")}}", dn: "{{d | default(7)}}", dz: "{{d | default(null)}}" }"#,
        #"{ di: "{{d | int | default(0)}}", df: "{{d | trim | float | default(-1.5)}}" }"#,
        #"{ odd: "{{d | default(\"x\") | upper}}", twice: "{{c | int | float}}", lt: "{{c | lower | trim | bool}}" }"#,
        #"{ mix: "{{a}}-{{b | upper}}/{{d}}!", both: "{{c | float}} and {{c | bool}}", n: "n={{d | int}}" }"#,
        #"{ nested: { x: "{{a}}", list: ["{{b}}", "{{d}}", 3, { y: "{{c | float}}" }] }, k: 5, t: true, z: null }"#,
        #"{ const: "fixed \"q\" é", line: "{{_line}}", src: "{{_source}}", path: "{{_path}}" }"#,
        #"{ "key \"quoted\"": "{{c}}", "é": "{{d | lower}}" }"#,
        "{}",
    ])
    func attributesMatchTheTemplatePath(attributes: String) throws {
        let rules = try compileRules(Self.regexRule(attributes: attributes))
        Self.expectSameOutput(rules, Self.lines(count: 400, seed: UInt64(attributes.utf8.count)))
    }

    @Test(arguments: [
        #"{ id: "{{a}}" }"#,
        #"{ id: "{{a | int}}" }"#,
        #"{ email: "{{a | lower}}", id: "{{d}}" }"#,
        #"{ cio_id: "x{{a}}y" }"#,
        #"{ id: "{{d | default(\"anon\")}}" }"#,
        #"{ phone: "{{a | trim}}", email: "{{b}}" }"#,
        "{ id: 42 }",
        #"{ id: "{{a | float}}" }"#,
        #"{ id: "{{a | bool}}" }"#,
    ])
    func identifiersMatchTheTemplatePath(identifiers: String) throws {
        let rules = try compileRules(Self.regexRule(identifiers: identifiers, attributes: #"{ c: "{{c}}" }"#))
        Self.expectSameOutput(rules, Self.lines(count: 300, seed: 7))
    }

    @Test(arguments: [
        #""{{b}}""#, "purchase", #""ev-{{c | upper}}""#, #""{{b | trim | lower}}""#, #""{{d}}""#,
        #""{{c | float}}""#, #""{{d | default(\"fallback\")}}""#, #""""#,
    ])
    func namesMatchTheTemplatePath(name: String) throws {
        let rules = try compileRules(Self.regexRule(name: name))
        Self.expectSameOutput(rules, Self.lines(count: 300, seed: 11))
    }

    @Test(arguments: [
        "{ field: c, format: unix }", "{ field: c, format: unix_ms }", "{ field: a, format: rfc3339 }",
        #"{ field: d, format: "%Y-%m-%dT%H:%M:%SZ" }"#,
    ])
    func timestampsMatchTheTemplatePath(timestamp: String) throws {
        let rules = try compileRules(Self.regexRule(timestamp: timestamp, attributes: #"{ c: "{{c}}" }"#))
        var lines = Self.lines(count: 300, seed: 13)
        for time in ["1795341600", "1795341600123", "2026-11-22T10:00:00Z", "2026-11-22T10:00:00.123+01:00"] {
            let bytes = Array(time.utf8)
            lines.append(Self.line(bytes, Array("e".utf8), bytes, bytes))
        }
        Self.expectSameOutput(rules, lines)
    }

    @Test(arguments: ["event", "page", "screen", "identify", "delete", "suppress", "unsuppress"])
    func everyPersonActionMatchesTheTemplatePath(action: String) throws {
        let takesName = ["event", "page", "screen"].contains(action)
        let takesAttributes = !["delete", "suppress", "unsuppress"].contains(action)
        let rules = try compileRules(
            Self.regexRule(
                action: action,
                name: takesName ? #""{{b}}""# : nil,
                attributes: takesAttributes ? #"{ c: "{{c | float}}", d: "{{d}}" }"# : nil
            ))
        Self.expectSameOutput(rules, Self.lines(count: 200, seed: 17))
    }

    @Test func anOperationOverTheSizeLimitIsRejectedAsBefore() throws {
        let attributes = (0..<40).map { "k\($0): \"{{c}}\"" }.joined(separator: ", ")
        let rules = try compileRules(Self.regexRule(attributes: "{ \(attributes) }"))
        let big = Array(String(repeating: "x", count: 900).utf8)
        let small = Array("x".utf8)
        let result = Self.expectSameOutput(
            rules, [Self.line(small, small, big, nil), Self.line(small, small, small, nil)])
        #expect(result == (encoded: 1, fellBack: 1))
    }

    /// The benchmark's rule: every taken line is encoded without the template.
    @Test func theBenchmarkRuleNeverFallsBack() throws {
        let yaml = BenchWorkload.rulesYAML.split(separator: "\n").dropFirst().joined(separator: "\n")
        let rules = try compileRules(yaml)
        var lines: [[UInt8]] = []
        for index in 0..<200 {
            lines.append(
                Array(
                    "2026-11-22T10:00:\(String(format2: index % 60))Z INFO checkout completed user_id=\(index) email=u\(index)@ex.io amount=\(index % 100).\(index % 97) p=xyz"
                        .utf8))
        }
        let result = Self.expectSameOutput(rules, lines)
        #expect(result == (encoded: 200, fellBack: 0))
    }

    /// A rule with `continue: true` and a later rule both take the line, each encoded.
    @Test func continuingRulesEncodeEachOperation() throws {
        let rules = try compileRules(
            """
            - name: first
              match: 'u=(?<u>\\d+)'
              continue: true
              operation: { action: event, identifiers: { id: "{{u}}" }, name: one }
            - name: second
              match: 'u=(?<u>\\d+) (?<rest>.*)'
              where: { rest: { regex: "^go" } }
              operation: { action: identify, identifiers: { id: "{{u}}" }, attributes: { rest: "{{rest}}" } }
            """
        )
        let result = Self.expectSameOutput(
            rules, [Array("u=1 go on".utf8), Array("u=2 stop".utf8), Array("nothing".utf8)])
        #expect(result == (encoded: 3, fellBack: 0))
    }

    // MARK: - Structured rules (fields go through the template's own value code)

    @Test func jsonRulesMatchTheTemplatePath() throws {
        let rules = try compileRules(
            """
            - name: order
              parse: json
              operation:
                action: event
                identifiers: { id: "{{user.id}}" }
                name: "{{event | default(\\"order\\")}}"
                timestamp: { field: ts, format: unix }
                attributes:
                  amount: "{{order.amount | float}}"
                  items: "{{order.items}}"
                  paid: "{{order.paid}}"
                  label: "order {{order.id}} for {{user.id}}"
                  upper: "{{order.id | upper}}"
                  missing: "{{nothing}}"
            """
        )
        let lines = [
            #"{"ts":1795341600,"user":{"id":42},"order":{"id":"o-1","amount":19.5,"paid":true,"items":[{"sku":"A"}]}}"#,
            #"{"ts":"1795341600.25","user":{"id":"é"},"event":"","order":{"id":"ß","amount":"7","paid":null}}"#,
            #"{"ts":1,"user":{"id":1}}"#,
            #"{"user":{"id":1}}"#,
            #"{"ts":1795341600,"user":{"id":""}}"#,
            #"{"ts":1795341600,"user":{"id":1},"order":{"amount":"abc"}}"#,
            "not json",
        ].map { Array($0.utf8) }
        Self.expectSameOutput(rules, lines)
    }

    @Test func logfmtRulesMatchTheTemplatePath() throws {
        let rules = try compileRules(
            """
            - name: login
              parse: logfmt
              operation:
                action: identify
                identifiers: { email: "{{user | lower}}" }
                attributes: { ip: "{{ip}}", ok: "{{ok | bool}}", n: "{{n | int | default(0)}}" }
            """
        )
        let lines = [
            #"user=Alice@Example.com ip=10.0.0.1 ok=yes n=3"#, #"user="Bob Smith" ok=0"#, #"ip=1"#,
            #"user=x ok=perhaps"#, #"user=ÉVA ok=true n=2.5"#,
        ].map { Array($0.utf8) }
        Self.expectSameOutput(rules, lines)
    }

    // MARK: - Byte helpers

    @Test func plainDecimalsAreWrittenAsSwiftWritesTheirDouble() {
        var output = OperationBuffer()
        defer { output.deallocate() }
        var samples = [
            "0", "-0", "1", "10", "100.0", "0.5", "0.05", "0.001", "123.456", "-42.75", "999999999999999",
            "0.123456789012345", "12345.6789012345", "7.10", "00012.000340",
        ]
        var generator = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            let whole = generator.next() % 1_000_000
            let fraction = generator.next() % 100_000
            let digits = Int(generator.next() % 6)
            var text = "\(whole)"
            if digits > 0 {
                let padded = String(fraction).leftPadded(to: 5)
                text += "." + padded.prefix(digits)
            }
            samples.append(generator.next() % 2 == 0 ? text : "-" + text)
        }
        for sample in samples {
            output.truncate(to: 0)
            let handled = Array(sample.utf8).withUnsafeBytes { ByteText.appendPlainDecimal($0, into: &output) }
            guard let number = Double(sample) else { continue }
            if handled {
                #expect(String(decoding: output.bytes, as: UTF8.self) == JSONWriter.format(number), "\(sample)")
            }
        }
        // Out of the certain range: left to Double.
        for sample in ["0.0001", "1234567890123456", "1.0000000000000001", "1e5", ".5", "5.", "0x1"] {
            output.truncate(to: 0)
            #expect(!Array(sample.utf8).withUnsafeBytes { ByteText.appendPlainDecimal($0, into: &output) })
        }
    }

    @Test func everyByteThatNeedsEscapingIsFoundInAWord() {
        for byte in 0...255 {
            for position in 0..<8 {
                var word = UInt64(0x6161_6161_6161_6161)  // "aaaaaaaa"
                word &= ~(UInt64(0xFF) << UInt64(8 * position))
                word |= UInt64(byte) << UInt64(8 * position)
                let expected = byte < 0x20 || byte == 0x22 || byte == 0x5C
                #expect(OperationBuffer.hasEscapable(word) == expected, "byte \(byte) at \(position)")
            }
        }
    }

    @Test func theBufferGrowsAndEscapesAsJSONWriterDoes() {
        var output = OperationBuffer(capacity: 8)
        defer { output.deallocate() }
        var text = ""
        for scalar in 0..<0x80 { text.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        text += "é😀" + String(repeating: "plain text without escapes ", count: 3) + "end\"\\\n"
        output.append(UInt8(ascii: "\""))
        var copy = text
        copy.withUTF8 { output.appendEscaped(UnsafeRawBufferPointer($0)) }
        output.append(UInt8(ascii: "\""))
        var writer = JSONWriter()
        writer.writeString(text)
        #expect(output.bytes == writer.bytes)
        for number: Int64 in [0, 1, -1, 9, 10, -10, 1_234_567_890, .max, .min] {
            output.truncate(to: 0)
            output.appendInteger(number)
            #expect(String(decoding: output.bytes, as: UTF8.self) == String(number))
        }
    }
}

extension String {
    fileprivate init(format2 value: Int) {
        self = value < 10 ? "0\(value)" : "\(value)"
    }

    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
