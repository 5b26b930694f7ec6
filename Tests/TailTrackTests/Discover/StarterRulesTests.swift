import Foundation
import Testing

@testable import TailTrack

/// The rules `--rules-out` writes compile as they are, their embedded tests pass, and the
/// slot names, identifiers and timestamp formats come out of the lines.
@Suite struct StarterRulesTests {
    private func rules(for lines: [String], source: String? = nil) throws -> (String, ConfigCheckReport) {
        let discovery = Discovery()
        for line in lines {
            var copy = line
            _ = copy.withUTF8 { discovery.miner.add(UnsafeRawBufferPointer($0)) }
        }
        let yaml = StarterRules.yaml(for: discovery.templates(), source: source, origin: "a test")
        let temporary = try TemporaryDirectory()
        let directory = temporary.path
        defer { withExtendedLifetime(temporary) {} }
        try yaml.write(toFile: directory + "/rules.yml", atomically: true, encoding: .utf8)
        try """
        state_dir: \(directory)/state
        sources:
          - name: app
            paths: ["\(directory)/*.log"]
        rules:
          - include: "rules.yml"
        """.write(toFile: directory + "/tailtrack.yml", atomically: true, encoding: .utf8)
        let report = ConfigCheck.load(
            path: directory + "/tailtrack.yml", environment: [:], requireCredentials: false)
        return (yaml, report)
    }

    @Test func loghubRulesCompileAndTheirTestsPass() throws {
        for fixture in [LoghubFixtures.apache, LoghubFixtures.hadoop] {
            let (yaml, report) = try rules(for: fixture.map(\.line), source: "app")
            #expect(report.problems.isEmpty, "\(report.problems)\n\(yaml)")
            let ruleSet = try #require(report.ruleSet)
            let results = RuleTestRunner(ruleSet: ruleSet, defaultSource: "app").run(readTime: 1_800_000_000)
            #expect(!results.isEmpty)
            for result in results where !result.passed {
                Issue.record("\(result.rule): \(result.failure ?? "")\n\(yaml)")
            }
        }
    }

    @Test func identifierTimestampAndSlotNamesComeFromTheLine() throws {
        let (yaml, report) = try rules(for: [
            "2026-11-22 10:00:00,123 INFO [main] app.Auth: login ok for user_id=42 email ada@example.com from 10.0.0.1",
            "2026-11-22 10:00:01,456 INFO [main] app.Auth: login ok for user_id=43 email bob@example.com from 10.0.0.2",
        ])
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(yaml.contains(#"identifiers: { email: "{{email}}" }"#))
        #expect(yaml.contains(#"timestamp: { field: time, format: 'rfc3339' }"#))
        #expect(yaml.contains(#"user_id: "{{user_id}}""#))
        #expect(yaml.contains(#"from: "{{from}}""#) == false)
        #expect(yaml.contains(#"ip: "{{ip}}""#))
        #expect(yaml.contains("name: 'login_ok_for_email'"))
    }

    @Test func structuredLinesGetParseAndWhere() throws {
        let (yaml, report) = try rules(for: [
            #"{"ts":"2026-11-22T10:00:00Z","level":"info","msg":"user logged in","user_id":"42"}"#,
            #"{"ts":"2026-11-22T10:00:01Z","level":"info","msg":"user logged in","user_id":"43"}"#,
        ])
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(yaml.contains("parse: json"))
        #expect(yaml.contains("msg: 'user logged in'"))
        #expect(yaml.contains(#"identifiers: { id: "{{user_id}}" }"#))
        #expect(yaml.contains("timestamp: { field: ts, format: 'rfc3339' }"))
    }

    @Test func timestampFormatsAreGuessedAndChecked() {
        #expect(TimestampGuess.format(for: "2015-10-18 18:01:47,978") == "rfc3339")
        #expect(TimestampGuess.format(for: "2015/10/18 18:01:47.978") == "%Y/%m/%d %H:%M:%S.%f")
        #expect(TimestampGuess.format(for: "081109 203615") == "%y%m%d %H%M%S")
        #expect(TimestampGuess.format(for: "Sun Dec 04 04:47:44 2005") == "%a %b %d %H:%M:%S %Y")
        #expect(TimestampGuess.format(for: "22/Nov/2026:10:00:00 +0100") == "%d/%b/%Y:%H:%M:%S %z")
        #expect(TimestampGuess.format(for: "2026-11-22T10:00:00.123Z") == "rfc3339")
        #expect(TimestampGuess.format(for: "1795341600") == "unix")
        #expect(TimestampGuess.format(for: "not a time") == nil)
    }
}
