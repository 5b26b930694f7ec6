import Testing

@testable import TailTrack

@Suite struct RuleStageTests {
    private func chunk(_ lines: [String], source: String = "app") -> LineChunk {
        var bytes: [UInt8] = []
        var spans: [LineSpan] = []
        for line in lines {
            spans.append(LineSpan(start: bytes.count, length: line.utf8.count, fileOffset: UInt64(bytes.count)))
            bytes += Array(line.utf8) + [UInt8(ascii: "\n")]
        }
        return LineChunk(
            source: source, path: "/var/log/app.log", fingerprint: FileFingerprint(value: 1, length: 10),
            file: FileKey(rawValue: 1), bytes: bytes, lines: spans, endOffset: UInt64(bytes.count))
    }

    private let buy = """
        - name: buy
          match: 'buy user=(?<user>\\d+)'
          operation: { type: person, action: event, name: buy, identifiers: { id: "{{user}}" } }
        """

    private let sell = """
        - name: sell
          match: 'sell user=(?<user>\\d+)'
          operation: { type: person, action: event, name: sell, identifiers: { id: "{{user}}" } }
        """

    @Test func aReplacedRuleSetAppliesFromTheNextChunkAndCountsCarryOver() throws {
        let stage = RuleStage(ruleSet: try compileRules(buy))
        let first = stage.process(chunk(["buy user=1", "sell user=2", "noise"]))
        #expect(first.operations.count == 1)

        stage.replace(with: try compileRules(buy + "\n" + sell))
        let second = stage.process(chunk(["buy user=3", "sell user=4"], source: "worker"))
        #expect(second.operations.count == 2)

        let stats = stage.statistics()
        #expect(stats.rules == ["buy": RuleCounters(matched: 2), "sell": RuleCounters(matched: 1)])
        #expect(
            stats.sources == [
                "app": .init(lines: 3, bytes: 29, unmatched: 2),
                "worker": .init(lines: 2, bytes: 23, unmatched: 0),
            ])
        #expect(stage.ruleSet.rules.map(\.name) == ["buy", "sell"])
    }
}
