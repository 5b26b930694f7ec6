import Foundation
import Testing

@testable import TailTrack

/// Fields an input provides beyond the line (``LineFields``: `_journal.*`, `_k8s.*`,
/// `_container.*`) reach templates and `where:`, and a line the input dated carries that time.
@Suite struct InputFieldTests {
    /// Two JSON lines from one input unit, each with its own priority and time, sharing a unit.
    private func chunk() -> LineChunk {
        let line = { (user: Int) in "{\"event\":\"signup\",\"user\":\(user)}" }
        let first = line(7).utf8.count
        var chunk = LineChunk(
            source: "api", path: "journal", fingerprint: FileFingerprint(value: 5, length: 10),
            file: FileKey(rawValue: 1), bytes: Array((line(7) + "\n" + line(8) + "\n").utf8),
            lines: [
                LineSpan(start: 0, length: first, fileOffset: 0),
                LineSpan(start: first + 1, length: first, fileOffset: UInt64(first + 1)),
            ],
            endOffset: UInt64(2 * first + 2))
        chunk.fields = LineFields(
            shared: ["_journal._SYSTEMD_UNIT": "api.service"],
            perLine: [["_journal.PRIORITY": "3"], ["_journal.PRIORITY": "6"]],
            times: [1_795_000_000, 1_795_000_100])
        return chunk
    }

    private func operations(_ yaml: String) throws -> [[String: Any]] {
        let result = try compileRules(yaml).makeEvaluator().process(chunk(), readTime: testReadTime)
        return try result.operations.map {
            try JSONSerialization.jsonObject(with: Data($0.bytes)) as? [String: Any] ?? [:]
        }
    }

    @Test func templatesAndWhereSeeTheInputsFields() throws {
        let operations = try operations(
            """
            - name: errors
              parse: json
              where: { event: signup, _journal.PRIORITY: "3" }
              operation:
                action: event
                identifiers: { id: "{{user}}" }
                name: signup
                attributes: { unit: "{{_journal._SYSTEMD_UNIT}}", priority: "{{_journal.PRIORITY | int}}" }
            """)
        #expect(operations.count == 1)
        #expect(operations.first?["identifiers"] as? [String: String] == ["id": "7"])
        let attributes = operations.first?["attributes"] as? [String: Any]
        #expect(attributes?["unit"] as? String == "api.service")
        #expect(attributes?["priority"] as? Int == 3)
    }

    @Test func withoutATimestampALineCarriesTheInputsTime() throws {
        let operations = try operations(
            """
            - name: signups
              parse: json
              operation: { action: event, identifiers: { id: "{{user}}" }, name: signup }
            """)
        #expect(operations.map { $0["timestamp"] as? Int } == [1_795_000_000, 1_795_000_100])
    }

    @Test func aRegexRuleMayNameAnInputsFieldWithoutAGroup() throws {
        let operations = try operations(
            """
            - name: any
              match: 'signup'
              operation:
                action: event
                identifiers: { id: "x" }
                name: "{{_journal.PRIORITY}}"
            """)
        #expect(operations.map { $0["name"] as? String } == ["3", "6"])
    }
}
