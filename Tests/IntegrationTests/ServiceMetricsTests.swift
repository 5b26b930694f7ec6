import Foundation
import Glibc
import Testing

/// The Prometheus endpoint and /healthz, scraped over HTTP from the running daemon.
@Suite struct ServiceMetricsTests {
    /// Prometheus text format: `name{labels} value` samples keyed by `name{labels}`; `nil` when a
    /// line is neither a comment nor a well-formed sample.
    static func parsePrometheus(_ text: String) -> [String: Double]? {
        var samples: [String: Double] = [:]
        let sample = #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eE]+$"#
        for line in text.split(separator: "\n") where !line.isEmpty {
            if line.hasPrefix("# TYPE ") || line.hasPrefix("# HELP ") { continue }
            guard line.range(of: sample, options: .regularExpression) != nil,
                let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
            else { return nil }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    private func address(_ daemon: ServiceProcess) async -> (host: String, port: Int)? {
        guard await daemon.waitForLog("Serving metrics") else { return nil }
        let line = daemon.stderr.split(separator: "\n").first { $0.contains("Serving metrics") } ?? ""
        guard let range = line.range(of: "metrics.address=127.0.0.1:") else { return nil }
        guard let port = Int(line[range.upperBound...].prefix { $0.isNumber }) else { return nil }
        return ("127.0.0.1", port)
    }

    /// A config reading `app.log` from the start into an output file, with one rule (`buy`)
    /// and the metrics endpoint on a free port.
    private func writeBuyConfig(in scratch: TemporaryDirectory) throws {
        try scratch.write(
            "tailtrack.yml",
            """
            state_dir: \(scratch.file("state"))
            output: { file: \(scratch.file("out.jsonl")) }
            metrics: { listen: "127.0.0.1:0" }
            sources:
              - { name: app, paths: ["\(scratch.file("app.log"))"], start_at: beginning }
            rules:
              - name: buy
                match: 'buy user=(?<user>\\d+)'
                operation: { type: person, action: event, name: buy, identifiers: { id: "{{user}}" } }
            """)
    }

    @Test func servesCountersPerSourceAndRuleAndAHealthyHealthz() async throws {
        let scratch = try TemporaryDirectory()
        try scratch.write("app.log", "buy user=1\nbuy user=2\nnoise\n")
        try writeBuyConfig(in: scratch)
        let daemon = try ServiceProcess(
            ["run", "--config", scratch.file("tailtrack.yml")], stderrPath: scratch.file("stderr.log"))
        let endpoint = try #require(await address(daemon), "\(daemon.stderr)")

        var samples: [String: Double] = [:]
        let complete = await serviceEventually {
            guard let response = serviceHTTPGet(host: endpoint.host, port: endpoint.port, path: "/metrics"),
                response.status == 200, let parsed = Self.parsePrometheus(response.body)
            else { return false }
            samples = parsed
            return parsed["tailtrack_sent_operations_total"] == 2
                && parsed[#"tailtrack_read_lines_total{source="app"}"#] == 3
        }
        #expect(complete, "\(samples)")
        #expect(samples[#"tailtrack_read_bytes_total{source="app"}"#] == 28)
        #expect(samples[#"tailtrack_rule_matched_lines_total{rule="buy"}"#] == 2)
        #expect(samples[#"tailtrack_rule_invalid_lines_total{rule="buy"}"#] == 0)
        #expect(samples[#"tailtrack_unmatched_lines_total{source="app"}"#] == 1)
        #expect(samples["tailtrack_dead_letter_operations_total"] == 0)
        #expect(samples["tailtrack_queue_bytes"] == 0)
        #expect(samples["tailtrack_followed_files"] == 1)
        #expect((samples["tailtrack_last_success_timestamp_seconds"] ?? 0) > 1_700_000_000)

        let health = serviceHTTPGet(host: endpoint.host, port: endpoint.port, path: "/healthz")
        #expect(health?.status == 200)
        #expect(health?.body == "ok\n")
        #expect(serviceHTTPGet(host: endpoint.host, port: endpoint.port, path: "/nope")?.status == 404)
        #expect(await daemon.stop() == 0)
    }

    /// A save of the positions that keeps failing (here the temporary file's path is taken by a
    /// directory, as good as a full disk for `open`) is logged once with its cause, counted at
    /// every retry, and logged once more when a save works again; delivery goes on meanwhile and
    /// the saved position then catches up.
    @Test func aFailingPositionsSaveIsLoggedOnceCountedAndRecovers() async throws {
        let scratch = try TemporaryDirectory()
        try scratch.write("app.log", "buy user=1\n")
        try writeBuyConfig(in: scratch)
        let positions = scratch.file("state/positions.json")
        func saved() -> String { (try? String(contentsOfFile: positions, encoding: .utf8)) ?? "" }
        let daemon = try ServiceProcess(
            ["run", "--config", scratch.file("tailtrack.yml")], stderrPath: scratch.file("stderr.log"))
        let endpoint = try #require(await address(daemon), "\(daemon.stderr)")
        #expect(await serviceEventually { saved().contains(#""offset":11,"#) }, "\(saved()) \(daemon.stderr)")

        try FileManager.default.createDirectory(atPath: positions + ".tmp", withIntermediateDirectories: false)
        let handle = try #require(FileHandle(forWritingAtPath: scratch.file("app.log")))
        handle.seekToEndOfFile()
        handle.write(Data("buy user=2\n".utf8))
        try handle.close()
        var samples: [String: Double] = [:]
        let counted = await serviceEventually {
            guard let response = serviceHTTPGet(host: endpoint.host, port: endpoint.port, path: "/metrics"),
                let parsed = Self.parsePrometheus(response.body)
            else { return false }
            samples = parsed
            return (parsed["tailtrack_checkpoint_save_failures_total"] ?? 0) >= 3
        }
        #expect(counted, "\(samples) \(daemon.stderr)")
        #expect(samples["tailtrack_sent_operations_total"] == 2, "delivery goes on: \(samples)")
        let failures = daemon.stderr.split(separator: "\n").filter { $0.contains("Cannot save positions") }
        #expect(failures.count == 1, "\(daemon.stderr)")
        #expect(failures.first?.contains("checkpoint.path=\(positions)") == true, "\(failures)")
        #expect(failures.first?.contains("could not create \(positions).tmp: Is a directory") == true, "\(failures)")
        #expect(saved().contains(#""offset":11,"#), "the old position stays on disk")

        try FileManager.default.removeItem(atPath: positions + ".tmp")
        #expect(await daemon.waitForLog("Positions saved again"), "\(daemon.stderr)")
        #expect(await serviceEventually { saved().contains(#""offset":22,"#) }, "\(saved())")
        #expect(daemon.stderr.split(separator: "\n").filter { $0.contains("Cannot save positions") }.count == 1)
        #expect(await daemon.stop() == 0)
    }

    @Test func healthzTurnsUnhealthyWhenDeliveriesFailForLongerThanUnhealthyAfter() async throws {
        let scratch = try TemporaryDirectory()
        try scratch.write("app.log", "buy user=1\n")
        try scratch.write(
            "tailtrack.yml",
            """
            track: { url: "http://127.0.0.1:9", site_id: site, api_key: key, connect_timeout: 1s, timeout: 2s }
            retry: { initial_backoff: 100ms, max_backoff: 500ms }
            state_dir: \(scratch.file("state"))
            shutdown_timeout: 1s
            metrics: { listen: "127.0.0.1:0", unhealthy_after: 1s }
            sources:
              - { name: app, paths: ["\(scratch.file("app.log"))"], start_at: beginning }
            rules:
              - name: buy
                match: 'buy user=(?<user>\\d+)'
                operation: { type: person, action: event, name: buy, identifiers: { id: "{{user}}" } }
            """)
        let daemon = try ServiceProcess(
            ["run", "--config", scratch.file("tailtrack.yml")], stderrPath: scratch.file("stderr.log"))
        let endpoint = try #require(await address(daemon), "\(daemon.stderr)")

        var last: (status: Int, body: String)?
        var samples: [String: Double] = [:]
        let unhealthy = await serviceEventually {
            last = serviceHTTPGet(host: endpoint.host, port: endpoint.port, path: "/healthz")
            let metrics = serviceHTTPGet(host: endpoint.host, port: endpoint.port, path: "/metrics")
            samples = metrics.flatMap { Self.parsePrometheus($0.body) } ?? [:]
            return last?.status == 503
                && (samples[#"tailtrack_retried_requests_total{cause="connection"}"#] ?? 0) > 0
                && samples["tailtrack_healthy"] == 0
        }
        #expect(unhealthy, "\(String(describing: last)) \(samples) \(daemon.stderr)")
        #expect(last?.body.hasPrefix("unhealthy: no operation delivered for ") == true)
        #expect(last?.body.hasSuffix(" s while operations are queued\n") == true)
        #expect(samples["tailtrack_sent_operations_total"] == 0)
        #expect(await daemon.stop() == 0)
    }
}
