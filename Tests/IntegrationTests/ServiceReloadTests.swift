import Foundation
import Glibc
import Testing

/// SIGHUP applies a good rule set and rejects a bad one, keeping the rules in force.
@Suite struct ServiceReloadTests {
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

    private func operations(_ scratch: TemporaryDirectory) -> [String] {
        scratch.read("out.jsonl").split(separator: "\n").map(String.init)
    }

    @Test func aBadRuleFileIsRejectedAndTheOldRulesKeepWorkingThenAGoodOneApplies() async throws {
        let scratch = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: scratch.file("rules.d"), withIntermediateDirectories: true)
        try scratch.write("rules.d/shop.yml", "rules:\n" + buy)
        try scratch.write("app.log", "buy user=1\n")
        try scratch.write(
            "tailtrack.yml",
            """
            state_dir: \(scratch.file("state"))
            output: { file: \(scratch.file("out.jsonl")) }
            sources:
              - { name: app, paths: ["\(scratch.file("app.log"))"], start_at: beginning }
            rules:
              - include: "\(scratch.file("rules.d"))/*.yml"
            """)
        let daemon = try ServiceProcess(
            ["run", "--config", scratch.file("tailtrack.yml")], stderrPath: scratch.file("stderr.log"))
        #expect(await serviceEventually { operations(scratch).count == 1 }, "\(daemon.stderr)")

        try scratch.write(
            "rules.d/shop.yml",
            """
            rules:
              - name: broken
                match: 'buy (unclosed'
                operation: { type: person, action: event, name: buy, identifiers: { id: "1" } }
            """)
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLog("Reload rejected"), "\(daemon.stderr)")
        let rejection = daemon.stderr.split(separator: "\n").first { $0.contains("Reload rejected") } ?? ""
        #expect(rejection.hasPrefix("error tailtrack: Reload rejected; the running config and rules stay in force "))
        #expect(rejection.contains("error.count=1"))
        #expect(rejection.contains("shop.yml:"))
        #expect(rejection.contains(#"rule \"broken\""#))

        try scratch.append("app.log", "buy user=2\nsell user=3\n")
        #expect(await serviceEventually { operations(scratch).count == 2 }, "\(daemon.stderr)")
        #expect(operations(scratch).last?.contains(#""id":"2""#) == true)

        try scratch.write("rules.d/shop.yml", "rules:\n" + buy + sell)
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLog("notice tailtrack: Reloaded config"), "\(daemon.stderr)")
        try scratch.append("app.log", "sell user=4\n")
        #expect(await serviceEventually { operations(scratch).count == 3 }, "\(daemon.stderr)")
        #expect(operations(scratch).last?.contains(#""name":"sell""#) == true)
        #expect(operations(scratch).last?.contains(#""id":"4""#) == true)

        #expect(await daemon.stop() == 0)
    }
}
