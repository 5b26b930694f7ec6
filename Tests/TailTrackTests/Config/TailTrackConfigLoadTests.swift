import Foundation
import Testing

@testable import TailTrack

@Suite struct TailTrackConfigLoadTests {
    let directory: TemporaryDirectory
    let credentials = ["CIO_SITE_ID": "site-1", "CIO_API_KEY": "key-1"]

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// Writes `text` as `tailtrack.yml` and loads it.
    private func load(_ text: String, environment: [String: String]? = nil) throws -> TailTrackConfig {
        let path = try directory.write("tailtrack.yml", text)
        return try TailTrackConfig.load(path: path, environment: environment ?? credentials)
    }

    /// The descriptions of the errors loading `text` throws, with the temp directory shown as `DIR`.
    private func loadErrors(_ text: String, environment: [String: String]? = nil) throws -> [String] {
        let path = try directory.write("tailtrack.yml", text)
        do {
            _ = try TailTrackConfig.load(path: path, environment: environment ?? credentials)
            return []
        } catch {
            return error.errors.map { $0.description.replacingOccurrences(of: directory.path, with: "DIR") }
        }
    }

    private func credentialErrors(_ config: TailTrackConfig) -> [String] {
        config.track.credentialErrors.map { $0.description.replacingOccurrences(of: directory.path, with: "DIR") }
    }

    private let minimalTrack = """
        track:
          site_id: "${CIO_SITE_ID}"
          api_key: "${CIO_API_KEY}"

        """

    // MARK: Keys and defaults

    @Test func defaultsWhenNothingIsSet() throws {
        let config = try load(minimalTrack)
        #expect(config.track.region == .us)
        #expect(config.track.url == nil)
        #expect(config.track.baseURL == "https://track.customer.io")
        #expect(config.track.siteID == "site-1")
        #expect(config.track.apiKey?.reveal() == "key-1")
        #expect(config.track.credentialErrors.isEmpty)
        #expect(config.track.connectTimeout == .seconds(5))
        #expect(config.track.requestTimeout == .seconds(30))
        #expect(config.batch.maxBytes == 500_000)
        #expect(config.batch.flushInterval == .seconds(1))
        #expect(config.batch.maxInFlight == 4)
        #expect(config.batch.maxRequestsPerSecond == 20)
        #expect(config.batch.queueBytes == 4_000_000)
        #expect(config.retry.initialBackoff == .milliseconds(500))
        #expect(config.retry.maxBackoff == .seconds(60))
        #expect(config.retry.authBackoff == .seconds(300))
        #expect(config.deadLetter.maxBytes == 100_000_000)
        #expect(config.deadLetter.keep == 3)
        #expect(config.tail.maxLineBytes == 65_536)
        #expect(config.tail.readBytes == 262_144)
        #expect(config.tail.pollInterval == .milliseconds(250))
        #expect(config.tail.useInotify)
        #expect(config.tail.partialLineTimeout == .seconds(5))
        #expect(config.tail.deletedFileTimeout == .seconds(3600))
        #expect(config.tail.maxDeletedBytes == 1_000_000_000)
        #expect(config.stateDirectory == "/var/lib/tailtrack")
        #expect(config.sources.isEmpty)
        #expect(config.rules.isEmpty)
        #expect(config.output == .track)
        #expect(config.shutdownTimeout == .seconds(10))
        #expect(config.logLevel == "info")
        #expect(config.metrics.listen == nil)
        #expect(config.metrics.unhealthyAfter == .seconds(300))
    }

    @Test func everyKeyIsRead() throws {
        let config = try load(
            """
            track:
              region: eu
              url: http://127.0.0.1:8080/
              site_id: site-2
              api_key: key-2
              connect_timeout: 2s
              timeout: 10s
            batch:
              max_bytes: 250KB
              flush_interval: 200ms
              max_in_flight: 8
              max_requests_per_second: 12.5
              queue_bytes: 1MiB
            retry:
              initial_backoff: 250ms
              max_backoff: 30s
              auth_backoff: 1m
            dead_letter:
              max_bytes: 10MB
              keep: 5
            tail:
              max_line_bytes: 16KiB
              read_bytes: 1MiB
              poll_interval: 100ms
              inotify: false
              partial_line_timeout: 2s
              deleted_file_timeout: 10m
              max_deleted_bytes: 2GB
            state_dir: state
            sources:
              - name: app
                paths: logs/*.log
                exclude: ["*.bak"]
                start_at: beginning
                backfill_rotated: false
              - name: web.access-1
                paths: ["/var/log/nginx/access.log", "./more/*.log"]
                rotated_dir: old
            rules:
              - name: purchase
                match: 'x'
            output: { file: out.jsonl }
            shutdown_timeout: 1.5s
            log_level: debug
            metrics:
              listen: 127.0.0.1:9464
              unhealthy_after: 2m
            """
        )
        let dir = directory.path
        #expect(config.track.region == .eu)
        #expect(config.track.url == "http://127.0.0.1:8080")
        #expect(config.track.baseURL == "http://127.0.0.1:8080")
        #expect(config.track.siteID == "site-2")
        #expect(config.track.apiKey?.reveal() == "key-2")
        #expect(config.track.connectTimeout == .seconds(2))
        #expect(config.track.requestTimeout == .seconds(10))
        #expect(config.batch.maxBytes == 250_000)
        #expect(config.batch.flushInterval == .milliseconds(200))
        #expect(config.batch.maxInFlight == 8)
        #expect(config.batch.maxRequestsPerSecond == 12.5)
        #expect(config.batch.queueBytes == 1_048_576)
        #expect(config.retry.initialBackoff == .milliseconds(250))
        #expect(config.retry.maxBackoff == .seconds(30))
        #expect(config.retry.authBackoff == .seconds(60))
        #expect(config.deadLetter.maxBytes == 10_000_000)
        #expect(config.deadLetter.keep == 5)
        #expect(config.tail.maxLineBytes == 16_384)
        #expect(config.tail.readBytes == 1_048_576)
        #expect(config.tail.pollInterval == .milliseconds(100))
        #expect(!config.tail.useInotify)
        #expect(config.tail.partialLineTimeout == .seconds(2))
        #expect(config.tail.deletedFileTimeout == .seconds(600))
        #expect(config.tail.maxDeletedBytes == 2_000_000_000)
        #expect(config.stateDirectory == "\(dir)/state")
        #expect(config.sources.count == 2)
        #expect(config.sources[0].name == "app")
        #expect(config.sources[0].paths == ["\(dir)/logs/*.log"])
        #expect(config.sources[0].exclude == ["*.bak"])
        #expect(config.sources[0].startAt == .beginning)
        #expect(!config.sources[0].backfillRotated)
        #expect(config.sources[0].location == SourceLocation(file: "\(dir)/tailtrack.yml", line: 31, column: 11))
        #expect(config.sources[1].name == "web.access-1")
        #expect(config.sources[1].paths == ["/var/log/nginx/access.log", "\(dir)/more/*.log"])
        #expect(config.sources[1].exclude.isEmpty)
        #expect(config.sources[1].startAt == .end)
        #expect(config.sources[1].backfillRotated)
        #expect(config.sources[0].rotatedDirectory == nil)
        #expect(config.sources[1].rotatedDirectory == "old")
        #expect(config.rules.count == 1)
        #expect(config.rules[0]["name"]?.value.kind == .string("purchase"))
        #expect(config.rules[0].location.line == 40)
        #expect(config.output == .file(path: "\(dir)/out.jsonl"))
        #expect(config.shutdownTimeout == .milliseconds(1500))
        #expect(config.logLevel == "debug")
        #expect(config.metrics.listen == "127.0.0.1:9464")
        #expect(config.metrics.unhealthyAfter == .seconds(120))
    }

    @Test func outputTrackAndNullSections() throws {
        let config = try load(minimalTrack + "output: track\nbatch:\nsources:\n")
        #expect(config.output == .track)
        #expect(config.batch.maxBytes == 500_000)
        #expect(config.sources.isEmpty)
    }

    @Test func substitutedValuesAreTyped() throws {
        let config = try load(
            minimalTrack + """
                batch:
                  max_in_flight: ${INFLIGHT}
                  max_bytes: "${BYTES:-100000}"
                tail:
                  inotify: ${INOTIFY}
                """,
            environment: credentials.merging(["INFLIGHT": "2", "INOTIFY": "false"]) { $1 }
        )
        #expect(config.batch.maxInFlight == 2)
        #expect(config.batch.maxBytes == 100_000)
        #expect(!config.tail.useInotify)
    }

    // MARK: Errors

    @Test func unsetVariableOutsideCredentialsIsThrown() throws {
        #expect(
            try loadErrors(minimalTrack + "state_dir: ${STATE}\n")
                == ["DIR/tailtrack.yml:4: state_dir: environment variable STATE is not set"]
        )
    }

    @Test func everyValueErrorExactly() throws {
        let errors = try loadErrors(
            """
            track:
              site_id: s
              api_key: k
              region: mars
              url: ftp://x
              timeout: soon
            batch:
              max_bytes: 900000
              flush_intervl: 1s
              max_in_flight: 100
              max_requests_per_second: 0
              queue_bytes: lots
            retry:
              initial_backoff: 0
              max_backoff: [1]
            dead_letter: [1, 2]
            tail:
              inotify: yes
              max_line_bytes: 0
            sources:
              - name: app
                paths: [a.log]
                start_at: middle
              - name: app
                paths: b.log
              - name: "my app"
              - paths: {a: 1}
              - 7
            output: kafka
            log_level: loud
            shutdown_timeout: -1s
            metrics:
              listen: 9464
            colour: red
            """
        )
        #expect(
            errors == [
                "DIR/tailtrack.yml:4: track.region: \"mars\" is not one of us, eu",
                "DIR/tailtrack.yml:5: track.url: \"ftp://x\" must start with http:// or https://",
                "DIR/tailtrack.yml:6: track.timeout: \"soon\" is not a duration (use a number with ns, us, ms, s, m, h or d, such as 1.5s or 200ms)",
                "DIR/tailtrack.yml:8: batch.max_bytes: 900000 is above Track's limit of 500000 bytes",
                "DIR/tailtrack.yml:9: batch: unknown key \"flush_intervl\" (did you mean \"flush_interval\"?)",
                "DIR/tailtrack.yml:10: batch.max_in_flight: 100 is above the maximum of 64",
                "DIR/tailtrack.yml:11: batch.max_requests_per_second: 0 must be greater than 0",
                "DIR/tailtrack.yml:12: batch.queue_bytes: \"lots\" is not a size (use bytes, or a number with KB, KiB, MB, MiB, GB or GiB, such as 64KiB)",
                "DIR/tailtrack.yml:14: retry.initial_backoff: 0 must be longer than 0",
                "DIR/tailtrack.yml:15: retry.max_backoff: expected a duration, found a list",
                "DIR/tailtrack.yml:16: dead_letter: expected a mapping, found a list",
                "DIR/tailtrack.yml:18: tail.inotify: \"yes\" is not true or false",
                "DIR/tailtrack.yml:19: tail.max_line_bytes: 0 is below the minimum of 1 byte",
                "DIR/tailtrack.yml:23: sources[0].start_at: \"middle\" is not one of beginning, end",
                "DIR/tailtrack.yml:24: sources[1].name: \"app\" is already the name of sources[0]",
                "DIR/tailtrack.yml:26: sources[2].name: \"my app\" may contain only letters, digits, \"_\", \".\" and \"-\"",
                "DIR/tailtrack.yml:26: sources[2]: missing required key \"paths\"",
                "DIR/tailtrack.yml:27: sources[3]: missing required key \"name\"",
                "DIR/tailtrack.yml:27: sources[3].paths: expected a string or a list of strings, found a mapping",
                "DIR/tailtrack.yml:28: sources[4]: expected a mapping, found an integer",
                "DIR/tailtrack.yml:29: output: \"kafka\" is not one of track, { file: PATH }",
                "DIR/tailtrack.yml:30: log_level: \"loud\" is not one of trace, debug, info, notice, warning, error, critical",
                "DIR/tailtrack.yml:31: shutdown_timeout: \"-1s\" is not a duration (use a number with ns, us, ms, s, m, h or d, such as 1.5s or 200ms)",
                "DIR/tailtrack.yml:33: metrics.listen: \"9464\" is not HOST:PORT (such as 127.0.0.1:9464)",
                "DIR/tailtrack.yml:34: unknown key \"colour\"",
            ]
        )
    }

    @Test func batchMaxBytesBelowMinimumAndQueueSmallerThanARequest() throws {
        #expect(
            try loadErrors(minimalTrack + "batch:\n  max_bytes: 500\n")
                == ["DIR/tailtrack.yml:5: batch.max_bytes: 500 is below the minimum of 1000 bytes"]
        )
        #expect(
            try loadErrors(minimalTrack + "batch:\n  queue_bytes: 100KB\n")
                == [
                    "DIR/tailtrack.yml:5: batch.queue_bytes: 100000 is below batch.max_bytes (500000); the queue must hold a whole request"
                ]
        )
        #expect(
            try loadErrors(minimalTrack + "retry:\n  initial_backoff: 2s\n  max_backoff: 1s\n")
                == ["DIR/tailtrack.yml:6: retry.max_backoff: must not be shorter than retry.initial_backoff"]
        )
    }

    @Test func wrongKindsAndOutputMapping() throws {
        #expect(
            try loadErrors("- a\n- b\n") == ["DIR/tailtrack.yml:1: expected a mapping, found a list"]
        )
        #expect(
            try loadErrors(minimalTrack + "sources: app\noutput: { path: x }\n")
                == [
                    "DIR/tailtrack.yml:4: sources: expected a list, found a string",
                    "DIR/tailtrack.yml:5: output: unknown key \"path\"",
                    "DIR/tailtrack.yml:5: output: missing required key \"file\"",
                ]
        )
    }

    @Test func missingConfigFileNamesThePathAndErrno() {
        let path = "\(directory.path)/absent.yml"
        #expect(throws: ConfigErrors.self) { try TailTrackConfig.load(path: path, environment: [:]) }
        do {
            _ = try TailTrackConfig.load(path: path, environment: [:])
        } catch {
            #expect(
                error.errors.map(\.description) == ["\(path): cannot read the config file: No such file or directory"])
        }
    }

    @Test func syntaxErrorIsTheOnlyError() throws {
        #expect(
            try loadErrors("track:\n  site_id: [a\n")
                == [
                    "DIR/tailtrack.yml:3: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2)"
                ]
        )
    }

    @Test func syntaxErrorStopsTheCheck() throws {
        // No line-less "missing required key" errors after it: the keys could not be read.
        let path = try directory.write("tailtrack.yml", "track:\n  site_id: x\n  api_key: y\n  bad: [\nsources: []\n")
        let (config, errors) = TailTrackConfig.loadCollectingErrors(path: path, environment: [:])
        #expect(config == nil)
        #expect(
            errors.map { $0.description.replacingOccurrences(of: directory.path, with: "DIR") } == [
                "DIR/tailtrack.yml:6: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 4)"
            ])
    }

    @Test func emptyOrCommentOnlyConfigNamesLineOneAndTheMissingKey() throws {
        for text in ["", "\n", "# nothing yet\n"] {
            let path = try directory.write("tailtrack.yml", text)
            let (config, errors) = TailTrackConfig.loadCollectingErrors(path: path, environment: [:])
            #expect(errors.isEmpty)
            #expect(
                config.map(credentialErrors) == [
                    "DIR/tailtrack.yml:1: missing required key \"track\" (with site_id, and api_key or api_key_file)"
                ])
        }
    }

    @Test func everyConfigErrorHasALine() throws {
        let texts = [
            "", "track: 5\n", "track:\n", "track:\n  site_id: s\n", "sources: [{ name: a }]\n", "batch: [\n",
            "track: { site_id: s, api_key: k }\nrules: [{ include: absent.yml }]\n", "- a\n- b\n", "just text\n",
        ]
        for text in texts {
            let path = try directory.write("tailtrack.yml", text)
            let (config, errors) = TailTrackConfig.loadCollectingErrors(path: path, environment: [:])
            let all = errors + (config?.track.credentialErrors ?? [])
            #expect(!all.isEmpty, "\(text.debugDescription) should have an error")
            for error in all {
                #expect(error.line != nil, "\(text.debugDescription): \(error)")
            }
        }
    }

    @Test func duplicateKeys() throws {
        #expect(
            try loadErrors(minimalTrack + "batch:\n  max_bytes: 1000\nbatch:\n  max_bytes: 2000\n")
                == ["DIR/tailtrack.yml:6: duplicate key \"batch\" (first written at line 4)"]
        )
    }

    // MARK: Credentials

    @Test func credentialProblemsAreKeptNotThrown() throws {
        let unset = try load(minimalTrack, environment: [:])
        #expect(unset.track.siteID == nil)
        #expect(unset.track.apiKey == nil)
        #expect(
            credentialErrors(unset) == [
                "DIR/tailtrack.yml:2: track.site_id: environment variable CIO_SITE_ID is not set",
                "DIR/tailtrack.yml:3: track.api_key: environment variable CIO_API_KEY is not set",
            ]
        )

        let none = try load("log_level: info\n")
        #expect(
            credentialErrors(none) == [
                "DIR/tailtrack.yml:1: missing required key \"track\" (with site_id, and api_key or api_key_file)"
            ]
        )

        let neither = try load("log_level: info\ntrack:\n  region: eu\n")
        #expect(
            credentialErrors(neither) == [
                "DIR/tailtrack.yml:2: track: missing required key \"site_id\"",
                "DIR/tailtrack.yml:2: track: missing required key \"api_key\" or \"api_key_file\"",
            ]
        )

        let both = try load("track:\n  site_id: s\n  api_key: k\n  api_key_file: key.txt\n")
        #expect(
            credentialErrors(both) == [
                "DIR/tailtrack.yml:4: track.api_key_file: give either api_key or api_key_file, not both"
            ])

        let empty = try load("track:\n  site_id: \"\"\n  api_key: ${EMPTY}\n", environment: ["EMPTY": ""])
        #expect(
            credentialErrors(empty) == [
                "DIR/tailtrack.yml:2: track.site_id: is empty",
                "DIR/tailtrack.yml:3: track.api_key: is empty",
            ]
        )
    }

    @Test func apiKeyFileRelativeToTheConfigDirectory() throws {
        try directory.write("secrets/api_key", "file-key\n\n")
        let config = try load("track:\n  site_id: s\n  api_key_file: secrets/api_key\n", environment: [:])
        #expect(config.track.apiKey?.reveal() == "file-key")
        #expect(config.track.credentialErrors.isEmpty)
    }

    @Test func apiKeyFileFromCredentialsDirectory() throws {
        try directory.write("creds/api_key", "systemd-key \n")
        let config = try load(
            "track:\n  site_id: s\n  api_key_file: api_key\n",
            environment: ["CREDENTIALS_DIRECTORY": "\(directory.path)/creds"]
        )
        #expect(config.track.apiKey?.reveal() == "systemd-key")

        let absolute = try load(
            "track:\n  site_id: s\n  api_key_file: \(directory.path)/creds/api_key\n",
            environment: ["CREDENTIALS_DIRECTORY": "/nonexistent"]
        )
        #expect(absolute.track.apiKey?.reveal() == "systemd-key")
    }

    @Test func apiKeyFileProblems() throws {
        let missing = try load("track:\n  site_id: s\n  api_key_file: nope\n")
        #expect(
            credentialErrors(missing)
                == ["DIR/tailtrack.yml:3: track.api_key_file: cannot read DIR/nope: No such file or directory"]
        )
        try directory.write("blank", "\n  \n")
        let blank = try load("track:\n  site_id: s\n  api_key_file: blank\n")
        #expect(credentialErrors(blank) == ["DIR/tailtrack.yml:3: track.api_key_file: DIR/blank is empty"])
    }

    /// Renders every error the loader can produce around a known key and checks the key never shows.
    @Test func theKeyNeverAppearsInAnyError() throws {
        let key = "sk_live_TOPSECRET_0123456789"
        try directory.write("keyfile", key + "\n")
        var rendered: [String] = []
        let configs = [
            "track:\n  site_id: s\n  api_key: \(key)\n  api_key_file: keyfile\n",
            "track:\n  site_id: s\n  api_key: [\(key)]\n",
            "track:\n  site_id: s\n  api_key: {\(key): 1}\n",
            "track:\n  site_id: s\n  api_key: \(key)\n  region: mars\n",
            "track:\n  site_id: s\n  api_key: \(key)\nbatch:\n  max_bytes: 900000\n  flush_intervl: 1\n",
            "track:\n  site_id: s\n  api_key: ${KEY}\n  url: ftp://\n",
            "track:\n  site_id: s\n  api_key: \"${KEY}${UNSET}\"\n",
            "track:\n  site_id: s\n  api_key: ${KEY\n",
            "track:\n  site_id: s\n  api_key: \(key)\n  api_key: \(key)\n",
            "track:\n  site_id: s\n  api_key: \"\(key)\n",
            "track:\n  site_id: s\n  api_key_file: keyfile\n  timeout: x\n",
        ]
        for text in configs {
            let path = try directory.write("tailtrack.yml", text)
            do {
                let config = try TailTrackConfig.load(path: path, environment: ["KEY": key])
                rendered += config.track.credentialErrors.map(\.description)
                rendered.append("\(config.track.apiKey as Any)")
                rendered.append(String(describing: config.track.apiKey))
                rendered.append(String(reflecting: config.track.apiKey))
            } catch {
                rendered.append(error.description)
            }
        }
        #expect(rendered.count > 10)
        for text in rendered {
            #expect(!text.contains("TOPSECRET"), "\(text)")
        }
    }

    // MARK: Includes

    @Test func includesInGlobOrderWithTheirOwnLocations() throws {
        try directory.write(
            "rules.d/b.yml",
            """
            rules:
              - name: from-b
            """
        )
        try directory.write(
            "rules.d/a.yml",
            """
            # a list of rules
            - name: from-a-1
            - name: from-a-2
              match: x
            - include: nested/*.yml
            """
        )
        try directory.write("rules.d/nested/c.yml", "- name: from-c\n")
        try directory.write("rules.d/skip.txt", "- name: not-a-rule-file\n")
        let config = try load(
            minimalTrack + """
                rules:
                  - name: inline-first
                  - include: rules.d/*.yml
                  - include: empty.d/*.yml
                  - name: inline-last
                """
        )
        let names = config.rules.map { $0["name"]?.value.scalarText ?? "?" }
        #expect(names == ["inline-first", "from-a-1", "from-a-2", "from-c", "from-b", "inline-last"])
        let dir = directory.path
        #expect(
            config.rules.map(\.location.file) == [
                "\(dir)/tailtrack.yml", "\(dir)/rules.d/a.yml", "\(dir)/rules.d/a.yml", "\(dir)/rules.d/nested/c.yml",
                "\(dir)/rules.d/b.yml", "\(dir)/tailtrack.yml",
            ])
        #expect(config.rules.map(\.location.line) == [5, 2, 3, 1, 2, 8])
        #expect(config.rules[2]["match"]?.value.location.line == 4)
    }

    @Test func missingLiteralIncludeIsAnError() throws {
        #expect(
            try loadErrors(minimalTrack + "rules:\n  - include: rules/shop.yml\n")
                == ["DIR/tailtrack.yml:5: rules[0].include: cannot read DIR/rules/shop.yml: No such file or directory"]
        )
    }

    @Test func errorsInsideIncludedFilesNameThem() throws {
        try directory.write("shop.yml", "- name: a\n- just text\n- match: ${MISSING}\n")
        try directory.write("loop.yml", "- include: loop.yml\n")
        #expect(
            try loadErrors(minimalTrack + "rules:\n  - include: shop.yml\n  - [1]\n  - include: loop.yml\n")
                == [
                    "DIR/tailtrack.yml:6: rules[1]: expected a mapping (a rule, or include: GLOB), found a list",
                    "DIR/shop.yml:2: rules[1]: expected a mapping (a rule, or include: GLOB), found a string",
                    "DIR/shop.yml:3: rules[2].match: environment variable MISSING is not set",
                    "DIR/loop.yml:1: rules[0].include: includes nest more than 8 deep (does a file include itself?)",
                ]
        )
    }

    @Test func loadRulesFromAFile() throws {
        let path = try directory.write("rules.yml", "rules:\n  - name: one\n  - include: more.yml\n")
        try directory.write("more.yml", "- name: two\n")
        let rules = try TailTrackConfig.loadRules(fromFile: path, environment: [:])
        #expect(rules.map { $0["name"]?.value.scalarText } == ["one", "two"])

        let bad = try directory.write("bad.yml", "rulez: []\n")
        #expect(throws: ConfigErrors.self) { try TailTrackConfig.loadRules(fromFile: bad, environment: [:]) }
        do {
            _ = try TailTrackConfig.loadRules(fromFile: bad, environment: [:])
        } catch {
            #expect(error.errors.map(\.description) == ["\(bad):1: unknown key \"rulez\" (did you mean \"rules\"?)"])
        }
    }
}
