import Foundation
import Testing

/// The commands a user runs to write and try rules, run as the built binary.
@Suite struct CLITests {
    @Test func checkPointsAtEveryBrokenLine() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "tailtrack.yml",
            """
            batch:
              max_bytes: 900KB
              flush_intervl: 2s
            sources:
              - name: app
                paths: ["logs/*.log"]
            rules:
              - include: "rules/*.yml"
            """
        )
        try directory.write(
            "rules/shop.yml",
            """
            - name: purchase
              sources: [ap]
              match: 'checkout user_id=(?<user_id>\\d+'
              operation: { action: event, identifiers: { id: "{{user_id}}" }, name: purchase }
            - name: login
              parse: json
              operation:
                action: identfy
                identifiers: { id: "{{user.id | lowr}}" }
            """
        )
        let result = try CLIRun.tailtrack(["check", "--config", directory.file("tailtrack.yml")])
        #expect(result.status == 1)
        let config = directory.file("tailtrack.yml")
        let rules = directory.file("rules/shop.yml")
        #expect(
            result.stderrLines == [
                "\(config):2: batch.max_bytes: 900000 is above Track's limit of 500000 bytes",
                "\(config):3: batch: unknown key \"flush_intervl\" (did you mean \"flush_interval\"?)",
                "\(rules):2: rule \"purchase\": sources: no source is named \"ap\" (did you mean \"app\"?)",
                "\(rules):3: rule \"purchase\": match: invalid regex at offset 31: missing closing parenthesis",
                "\(rules):8: rule \"login\": operation.action: \"identfy\" is not a person action (did you mean \"identify\"?); person actions are add_device, add_relationships, delete, delete_device, delete_relationships, event, identify, merge, page, screen, suppress, unsuppress",
                "\(config):1: missing required key \"track\" (with site_id, and api_key or api_key_file)",
                "6 errors in \(config)",
            ])
    }

    @Test func checkAcceptsTheExampleWithCredentials() throws {
        let result = try CLIRun.tailtrack(
            ["check", "--config", CLIRun.packageRoot + "/examples/tailtrack.yml"],
            environment: ["CIO_SITE_ID": "site", "CIO_API_KEY": "key-that-must-not-show"]
        )
        #expect(result.status == 0)
        #expect(result.stdout == "ok: 3 sources, 12 rules, 18 rule tests\n")
        #expect(!result.stdout.contains("key-that-must-not-show"))
    }

    @Test func checkWithoutCredentialsNamesTheVariables() throws {
        let result = try CLIRun.tailtrack(["check", "--config", CLIRun.packageRoot + "/examples/tailtrack.yml"])
        #expect(result.status == 1)
        let config = CLIRun.packageRoot + "/examples/tailtrack.yml"
        #expect(
            result.stderrLines == [
                "\(config):6: track.site_id: environment variable CIO_SITE_ID is not set",
                "\(config):7: track.api_key: environment variable CIO_API_KEY is not set",
                "2 errors in \(config)",
            ])
    }

    @Test func testCommandRunsTheBundledRuleTests() throws {
        let result = try CLIRun.tailtrack(["test", "--config", CLIRun.packageRoot + "/examples/tailtrack.yml"])
        #expect(result.status == 0)
        #expect(result.stdout.hasSuffix("18 passed, 0 failed\n"))
    }

    @Test func testCommandReportsAFailingCase() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "tailtrack.yml",
            """
            sources: [{ name: app, paths: ["x.log"] }]
            rules:
              - name: buy
                match: 'buy user=(?<u>\\d+) amount=(?<a>\\S+)'
                operation: { action: event, identifiers: { id: "{{u}}" }, name: buy, attributes: { amount: "{{a}}" } }
                tests:
                  - line: "buy user=7 amount=9.50"
                    expect: { attributes: { amount: 9.5 } }
            """
        )
        let result = try CLIRun.tailtrack(["test", "--config", directory.file("tailtrack.yml")])
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "FAIL buy tests[0] (\(directory.file("tailtrack.yml")):7): attributes.amount: expected 9.5 (a number), got \"9.50\" (a string)"
            ))
        #expect(result.stdout.hasSuffix("0 passed, 1 failed\n"))
    }

    @Test func dryRunPrintsExactOperationsForPlainAndGzipAndStdin() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "tailtrack.yml",
            """
            sources: [{ name: web, paths: ["logs/access.log*"] }]
            rules:
              - name: checkout
                match: '^\\S+ \\S+ \\S+ \\[(?<time>[^\\]]+)\\] "GET /checkout\\?uid=(?<uid>\\d+)&total=(?<total>[0-9.]+) '
                operation:
                  action: event
                  identifiers: { id: "{{uid}}" }
                  name: checkout
                  timestamp: { field: time, format: "%d/%b/%Y:%H:%M:%S %z" }
                  attributes: { total: "{{total | float}}" }
            """
        )
        let log = """
            10.0.0.1 - - [22/Nov/2026:10:00:00 +0100] "GET /checkout?uid=42&total=19.90 HTTP/1.1" 200 5 "-" "x"
            10.0.0.1 - - [22/Nov/2026:10:00:01 +0100] "GET /index.html HTTP/1.1" 200 5 "-" "x"
            10.0.0.2 - - [22/Nov/2026:11:00:00 +0000] "GET /checkout?uid=7&total=5 HTTP/1.1" 200 5 "-" "x"

            """
        try directory.write("logs/access.log", log)
        let plain = try CLIRun.tailtrack([
            "dry-run", "--config", directory.file("tailtrack.yml"), directory.file("logs/access.log"),
        ])
        #expect(plain.status == 0)
        let lines = plain.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix(#"{"type":"person","action":"event","identifiers":{"id":"42"},"id":""#))
        #expect(lines[0].hasSuffix(#"","name":"checkout","timestamp":1795338000,"attributes":{"total":19.9}}"#))
        #expect(lines[1].hasSuffix(#"","name":"checkout","timestamp":1795345200,"attributes":{"total":5}}"#))
        #expect(plain.stderr.contains("lines read: 3"))
        #expect(plain.stderr.contains("rule checkout  matched 2  invalid 0"))
        #expect(plain.stderr.contains("unmatched: 1"))

        // The same content gzipped, and through stdin: the same ids (same content, same offsets).
        let gzip = try CLIRun.run(
            "/bin/sh",
            ["-c", "gzip -c '\(directory.file("logs/access.log"))' > '\(directory.file("logs/access.log.1.gz"))'"])
        #expect(gzip.status == 0)
        let compressed = try CLIRun.tailtrack([
            "dry-run", "--config", directory.file("tailtrack.yml"), directory.file("logs/access.log.1.gz"),
        ])
        #expect(compressed.stdout == plain.stdout)
        let piped = try CLIRun.run(
            "/bin/sh",
            [
                "-c",
                "'\(CLIRun.binary)' dry-run --config '\(directory.file("tailtrack.yml"))' < '\(directory.file("logs/access.log"))'",
            ])
        #expect(piped.stdout == plain.stdout)
        // Again: the ids are stable across runs.
        let again = try CLIRun.tailtrack([
            "dry-run", "--config", directory.file("tailtrack.yml"), directory.file("logs/access.log"),
        ])
        #expect(again.stdout == plain.stdout)
    }

    @Test func dryRunReportsRejectionsOnStderr() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "tailtrack.yml",
            """
            sources: [{ name: app, paths: ["app.log"] }]
            rules:
              - name: login
                parse: json
                where: { msg: login }
                operation: { action: identify, identifiers: { id: "{{user}}" }, timestamp: { field: ts, format: unix_ms } }
            """
        )
        try directory.write(
            "app.log",
            "{\"msg\":\"login\",\"user\":\"\",\"ts\":1795341600000}\n{\"msg\":\"login\",\"user\":\"3\",\"ts\":1795341600}\n"
        )
        let result = try CLIRun.tailtrack([
            "dry-run", "--config", directory.file("tailtrack.yml"), directory.file("app.log"),
        ])
        #expect(result.status == 0)
        #expect(result.stdout == "")
        #expect(
            result.stderr.contains(
                "rejected: rule \"login\": \(directory.file("app.log")) offset 0: identifiers must have exactly one non-empty of id, email, phone, cio_id; none is set"
            ))
        #expect(
            result.stderr.contains(
                "rejected: rule \"login\": \(directory.file("app.log")) offset 45: timestamp 1795341 is not plausible unix seconds (expected 2000…2100); check the timestamp format"
            ))
    }

    /// DESIGN.md's two example rules, copied verbatim: `check` accepts them (warning that
    /// `purchase` names a timestamp field its regex has no group for), `test` runs the embedded
    /// case, and `dry-run` makes exactly the operations a reader predicts.
    @Test func designExampleRulesPassCheckTestAndDryRun() throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "tailtrack.yml",
            """
            track: { site_id: site, api_key: key }
            sources:
              - name: app
                paths: ["logs/*.log"]
            rules:
              - include: "rules.yml"
            """
        )
        try directory.write("rules.yml", Self.designRules)
        let config = directory.file("tailtrack.yml")
        let rules = directory.file("rules.yml")

        let check = try CLIRun.tailtrack(["check", "--config", config])
        #expect(check.status == 0)
        #expect(check.stdout == "ok: 1 source, 2 rules, 1 rule test\n")
        #expect(
            check.stderrLines == [
                "\(rules):10: warning: rule \"purchase\": operation.timestamp.field: the regex has no group named \"ts\"; its groups are amount, email, user_id; operations get the time the line was read"
            ])

        let test = try CLIRun.tailtrack(["test", "--config", config])
        #expect(test.status == 0)
        #expect(test.stdout == "PASS purchase tests[0]\nrules without tests: login\n1 passed, 0 failed\n")
        #expect(test.stderr == "")

        try directory.write(
            "logs/app.log",
            """
            2026-11-22T10:00:00Z INFO checkout completed user_id=7 email=a@b.c amount=9.50
            {"ts":"2026-11-22T10:00:01Z","level":"info","msg":"user logged in","user":{"id":42,"email":"A@B.C"},"seats":"3"}

            """
        )
        let before = Int(Date().timeIntervalSince1970)
        let dryRun = try CLIRun.tailtrack(["dry-run", "--config", config, directory.file("logs/app.log")])
        let after = Int(Date().timeIntervalSince1970)
        #expect(dryRun.status == 0)
        let lines = dryRun.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        // `purchase` has no event time: its timestamp is when the line was read.
        let readTime = lines.first.flatMap { line in
            line.firstRange(of: #""timestamp":"#).map { Int(line[$0.upperBound...].prefix { $0.isNumber }) ?? 0 }
        }
        #expect(readTime.map { (before...after).contains($0) } == true, "\(lines)")
        #expect(
            lines.first?.replacingOccurrences(of: "\"timestamp\":\(readTime ?? 0),", with: "\"timestamp\":READ,")
                == #"{"type":"person","action":"event","identifiers":{"id":"7"},"id":"01PCTCNKVHQZ6M64B1T3GD9V7G","name":"purchase","timestamp":READ,"attributes":{"email":"a@b.c","amount":9.5}}"#
        )
        #expect(
            lines.last
                == #"{"type":"person","action":"identify","identifiers":{"id":"42"},"timestamp":1795341601,"attributes":{"email":"a@b.c","seats":3}}"#
        )
        #expect(
            dryRun.stderr
                == "lines read: 2\n  rule purchase  matched 1  invalid 0\n  rule login     matched 1  invalid 0\nunmatched: 0\n"
        )
    }

    /// DESIGN.md lines 59–74 and 80–88, as written there.
    static let designRules = #"""
        - name: purchase
          sources: [app]             # optional; default all
          match: 'checkout completed user_id=(?<user_id>\d+) email=(?<email>\S+) amount=(?<amount>[0-9.]+)'
          # or: parse: json | logfmt, with `where:` field conditions
          operation:
            type: person             # person | object
            action: event            # event | identify | delete | page | screen | add_relationships | …
            identifiers: { id: "{{user_id}}" }
            name: purchase           # events: the event name (templates allowed)
            timestamp: { field: ts, format: rfc3339 }   # optional; when absent: time the line was read
            attributes:
              email: "{{email}}"
              amount: "{{amount | float}}"  # filters: int, float, bool, lower, upper, trim, default(...)
          tests:
            - line: "2026-11-22T10:00:00Z INFO checkout completed user_id=7 email=a@b.c amount=9.50"
              expect: { type: person, action: event, name: purchase, identifiers: { id: "7" }, attributes: { amount: 9.5 } }
        - name: login
          parse: json                # or logfmt
          where: { msg: "user logged in", level: [info, notice] }   # equals, or one of a list
          operation:
            type: person
            action: identify
            identifiers: { id: "{{user.id}}" }        # dotted paths reach nested fields
            timestamp: { field: ts, format: rfc3339 }
            attributes: { email: "{{user.email | lower}}", seats: "{{seats | int}}" }

        """#

    @Test func dryRunOfAMissingFileSaysSo() throws {
        let result = try CLIRun.tailtrack([
            "dry-run", "--config", CLIRun.packageRoot + "/examples/tailtrack.yml", "/nonexistent/x.log",
        ])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "error: /nonexistent/x.log: could not open /nonexistent/x.log: No such file or directory (errno 2)"))
    }
}

extension CLITests {
    /// FAILURE-MODES row 2: a matched file the agent cannot open shows in `status` as
    /// `unreadable` (run as `nobody`, since root opens any file), next to the saved positions
    /// and the matched files not read yet.
    @Test(.enabled(if: getuid() == 0, "needs root to run status as another user"))
    func statusShowsUnreadableAndNewFiles() throws {
        let directory = try TemporaryDirectory()
        chmod(directory.path, 0o755)
        try directory.write("logs/open.log", "one\n")
        try directory.write("logs/locked.log", "two\n")
        try directory.write("logs/open.log.1", "rotated\n")
        chmod(directory.file("logs/locked.log"), 0)
        try FileManager.default.createDirectory(atPath: directory.file("state"), withIntermediateDirectories: true)
        try directory.write(
            "tailtrack.yml",
            """
            track: { site_id: s, api_key: k }
            state_dir: \(directory.file("state"))
            sources:
              - name: app
                paths: ["\(directory.file("logs"))/*.log*"]
            rules: []
            """)
        let result = try CLIRun.run(
            "/usr/bin/setpriv",
            [
                "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", CLIRun.binary, "status", "--config",
                directory.file("tailtrack.yml"),
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.stdout.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true)
        }
        let states = Dictionary(rows.dropFirst().map { (String($0[1]), String($0.last ?? "")) }) { first, _ in first }
        #expect(
            states == [directory.file("logs/locked.log"): "unreadable", directory.file("logs/open.log"): "new"],
            "\(result.stdout)")
    }
}

/// Runs the built `tailtrack` (or any program) and collects what it printed.
enum CLIRun {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let binary = packageRoot + "/.build/debug/tailtrack"

    static func tailtrack(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try run(binary, arguments, environment: environment)
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var base = ProcessInfo.processInfo.environment
        base["CIO_SITE_ID"] = nil
        base["CIO_API_KEY"] = nil
        process.environment = base.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self)
        )
    }
}
