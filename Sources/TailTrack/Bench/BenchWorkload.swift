/// The benchmark's files and configuration: where the generated logs go, and the config the
/// agent under test runs with (one regex rule with 4 named groups and 3 attributes).
public struct BenchWorkload: Sendable {
    /// The folder everything is written to.
    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The plain log: the live file of source `plain`.
    public var plainPath: String { directory + "/plain/app.log" }
    /// The gzipped copy of the same lines: a rotated sibling of source `gz`'s (empty) live file,
    /// read as backfill.
    public var gzipPath: String { directory + "/gz/app.log.1.gz" }
    /// The live file of source `gz`, left empty.
    public var gzipLivePath: String { directory + "/gz/app.log" }
    /// Where the agent keeps its positions.
    public var stateDirectory: String { directory + "/state" }

    /// The rule every line is offered to: 4 named groups, an RFC 3339 timestamp, 3 attributes.
    public static let rulesYAML = """
        rules:
          - name: purchase
            match: '^(?<ts>\\S+) INFO checkout completed user_id=(?<user_id>\\d+) email=(?<email>\\S+) amount=(?<amount>[0-9.]+)'
            operation:
              type: person
              action: event
              identifiers: { id: "{{user_id}}" }
              name: purchase
              timestamp: { field: ts, format: rfc3339 }
              attributes:
                email: "{{email}}"
                amount: "{{amount | float}}"
                checkout_at: "{{ts}}"
        """

    /// The end every bench config shares: its state directory, the log level, one source and
    /// the rule. `extra` adds lines to the source (indented as its keys).
    static func sourceYAML(
        name: String, paths: String, startAt: String, stateDirectory: String, extra: String? = nil
    ) -> String {
        """
        state_dir: \(stateDirectory)/\(name)
        log_level: warning
        sources:
          - name: \(name)
            paths: ["\(paths)"]
            start_at: \(startAt)\(extra.map { "\n    " + $0 } ?? "")
        \(rulesYAML)
        """
    }

    /// A config for the agent: `source` (`plain` or `gz`) from the beginning, sent to `url`.
    public func configYAML(source: String, url: String) -> String {
        let path = source == "gz" ? gzipLivePath : plainPath
        return """
            track:
              url: \(url)
              site_id: bench-site
              api_key: bench-key
            batch:
              flush_interval: 100ms
              max_requests_per_second: 10000
            \(Self.sourceYAML(
                name: source, paths: path, startAt: "beginning", stateDirectory: stateDirectory,
                extra: "backfill_rotated: true"))
            """
    }

    /// A config following `count` idle files in `idle/`, sent to `url`.
    public func idleConfigYAML(url: String) -> String {
        """
        track:
          url: \(url)
          site_id: bench-site
          api_key: bench-key
        \(Self.sourceYAML(name: "idle", paths: directory + "/idle/*.log", startAt: "end", stateDirectory: stateDirectory))
        """
    }
}
