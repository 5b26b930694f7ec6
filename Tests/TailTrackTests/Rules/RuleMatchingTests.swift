import Testing

@testable import TailTrack

/// Which rules take a line: order, `continue:`, `sources:`, `where:`, and the counters.
@Suite struct RuleMatchingTests {
    private let twoRules = """
        - name: first
          match: 'user=(?<u>\\d+)'
          operation: { action: delete, identifiers: { id: "{{u}}" } }
        - name: second
          match: 'user=(?<u>\\d+)'
          operation: { action: suppress, identifiers: { id: "{{u}}" } }
        """

    @Test func firstMatchWins() throws {
        let rules = try compileRules(twoRules)
        let ops = operations(rules, line: "user=5")
        #expect(ops.map { $0["action"] } == [.string("delete")])
    }

    @Test func continueLetsLaterRulesSeeTheLine() throws {
        let rules = try compileRules(
            twoRules.replacingFirst(
                "  operation: { action: delete", with: "  continue: true\n  operation: { action: delete"))
        let ops = operations(rules, line: "user=5")
        #expect(ops.map { $0["action"] } == [.string("delete"), .string("suppress")])
    }

    @Test func sourcesRestrictRules() throws {
        let rules = try compileRules(
            """
            - name: only_nginx
              sources: [nginx]
              match: 'user=(?<u>\\d+)'
              operation: { action: delete, identifiers: { id: "{{u}}" } }
            - name: any
              match: 'user=(?<u>\\d+)'
              operation: { action: suppress, identifiers: { id: "{{u}}" } }
            """
        )
        #expect(operations(rules, line: "user=5", source: "nginx").map { $0["action"] } == [.string("delete")])
        #expect(operations(rules, line: "user=5", source: "app").map { $0["action"] } == [.string("suppress")])
    }

    @Test func whereConditionsOnRegexGroups() throws {
        let rules = try compileRules(
            """
            - name: r
              match: 'status=(?<status>\\d+) path=(?<path>\\S+)(?: user=(?<u>\\d+))?'
              where:
                status: 200
                path: { regex: '^/checkout' }
                u: { exists: true }
              operation: { action: delete, identifiers: { id: "{{u}}" } }
            """
        )
        #expect(operations(rules, line: "status=200 path=/checkout/done user=3").count == 1)
        #expect(operations(rules, line: "status=500 path=/checkout/done user=3").isEmpty)
        #expect(operations(rules, line: "status=200 path=/home user=3").isEmpty)
        #expect(operations(rules, line: "status=200 path=/checkout").isEmpty)
    }

    @Test func whereOneOf() throws {
        let rules = try compileRules(
            """
            - name: r
              match: 'level=(?<level>\\w+) user=(?<u>\\d+)'
              where: { level: [info, notice] }
              operation: { action: delete, identifiers: { id: "{{u}}" } }
            """
        )
        #expect(operations(rules, line: "level=notice user=1").count == 1)
        #expect(operations(rules, line: "level=debug user=1").isEmpty)
    }

    @Test func countersPerRule() throws {
        let rules = try compileRules(
            """
            - name: ok
              match: 'ok user=(?<u>\\d*)'
              operation: { action: delete, identifiers: { id: "{{u}}" } }
            """
        )
        let evaluator = rules.makeEvaluator()
        for line in ["ok user=1", "ok user=", "nothing", "ok user=2"] {
            Array(line.utf8).withUnsafeBytes { bytes in
                evaluator.evaluate(
                    bytes, source: "s", path: "p", fingerprint: FileFingerprint(value: 1, length: 1), offset: 0,
                    readTime: testReadTime
                ) { _ in }
            }
        }
        #expect(evaluator.stats.lines == 4)
        #expect(evaluator.stats.unmatched == 1)
        #expect(evaluator.stats.perRule == [RuleCounters(matched: 3, invalid: 1)])
    }

    @Test func chunkProcessingKeepsOffsetsAndEndOffset() throws {
        let rules = try compileRules(
            """
            - name: r
              match: 'buy user=(?<u>\\d+)'
              operation: { action: event, identifiers: { id: "{{u}}" }, name: buy }
            """
        )
        let text = "buy user=1\nidle\nbuy user=2\n"
        let bytes = Array(text.utf8)
        let chunk = LineChunk(
            source: "app",
            path: "/var/log/app.log",
            fingerprint: FileFingerprint(value: 9, length: 11),
            file: FileKey(rawValue: 3),
            bytes: bytes,
            lines: [
                LineSpan(start: 0, length: 10, fileOffset: 500), LineSpan(start: 11, length: 4, fileOffset: 511),
                LineSpan(start: 16, length: 10, fileOffset: 516),
            ],
            endOffset: 527
        )
        let result = rules.makeEvaluator().process(chunk, readTime: testReadTime)
        #expect(result.file == FileKey(rawValue: 3))
        #expect(result.endOffset == 527)
        #expect(result.operations.map(\.lineOffset) == [500, 516])
        #expect(result.operations.map(\.rule) == ["r", "r"])
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        return self[..<range.lowerBound] + replacement + self[range.upperBound...]
    }
}
