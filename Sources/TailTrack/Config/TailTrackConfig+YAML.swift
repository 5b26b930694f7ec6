// Over 400 lines: one reader per config section, kept in one file so that the order in which
// a config is checked reads top to bottom as the file's own sections do.
extension TailTrackConfig {
    /// Loads and validates the config at `path`, expanding `${VAR}` from `environment` and
    /// `rules: - include:` globs. Throws every problem found at once, in file order.
    ///
    /// Problems with the credentials (`site_id`, `api_key`, `api_key_file`) are not thrown but
    /// kept in ``TrackSettings/credentialErrors``, so that `dry-run` and `test` work without them.
    public static func load(path: String, environment: [String: String]) throws(ConfigErrors) -> TailTrackConfig {
        let (config, errors) = loadCollectingErrors(path: path, environment: environment)
        guard let config, errors.isEmpty else { throw ConfigErrors(errors) }
        return config
    }

    /// Like ``load(path:environment:)``, but returns what could be built alongside the problems,
    /// so that `check` can also compile the rules of a config with errors elsewhere. The config
    /// is `nil` only when the file cannot be read at all or is not valid YAML (then the syntax
    /// error is the only error: the keys behind it could not be read, not found missing).
    public static func loadCollectingErrors(
        path: String,
        environment: [String: String]
    ) -> (config: TailTrackConfig?, errors: [ConfigError]) {
        let text: String
        switch ConfigFile.read(path) {
        case .success(let content):
            text = content
        case .failure(let failure):
            let error = ConfigError(
                file: path, line: nil, keyPath: nil, message: "cannot read the config file: \(failure.reason)")
            return (nil, [error])
        }
        let document = YAMLDocument.parse(text, file: path, environment: environment)
        if document.isInvalidYAML { return (nil, document.errors) }
        var loader = ConfigLoader(file: path, environment: environment)
        let config = loader.config(from: document)
        return (config, loader.errors)
    }

    /// The rules of one rules file (a list of rules, or a mapping with a `rules:` list), with
    /// its `include:` items expanded. For `tailtrack test` and the rule compiler's tests.
    public static func loadRules(fromFile path: String, environment: [String: String]) throws(ConfigErrors)
        -> [ValueSpec]
    {
        var expander = RuleListExpander(environment: environment)
        let rules = expander.rules(fromFile: path, include: nil, depth: 0)
        let errors = ConfigLoader.inFileOrder(expander.reader.errors, mainFile: path)
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return rules
    }
}

/// Builds a ``TailTrackConfig`` from the parsed config file, section by section.
private struct ConfigLoader {
    static let topLevelKeys = [
        "track", "batch", "retry", "dead_letter", "tail", "state_dir", "sources", "rules", "output",
        "shutdown_timeout", "log_level", "metrics",
    ]
    static let credentialKeyPaths: Set<String> = ["track.site_id", "track.api_key", "track.api_key_file"]
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    let file: String
    /// The absolute directory of the config file; relative paths in it are resolved here.
    let directory: String
    let environment: [String: String]
    var reader = ConfigValueReader()
    /// Problems with `site_id`, `api_key` or `api_key_file`, which do not stop loading.
    var credentialReader = ConfigValueReader()
    private var rulesErrors: [ConfigError] = []

    init(file: String, environment: [String: String]) {
        self.file = file
        self.directory = ConfigFile.directory(of: file)
        self.environment = environment
    }

    /// Every thrown problem, in file order.
    var errors: [ConfigError] {
        Self.inFileOrder(reader.errors + rulesErrors, mainFile: file)
    }

    /// Errors sorted by line within each file; the config file first, then the others in the
    /// order they were first named (an error without a line comes first in its file).
    static func inFileOrder(_ errors: [ConfigError], mainFile: String) -> [ConfigError] {
        var fileRank: [String: Int] = [mainFile: 0]
        for error in errors where fileRank[error.file] == nil {
            fileRank[error.file] = fileRank.count
        }
        return errors.enumerated()
            .sorted { lhs, rhs in
                let left = (fileRank[lhs.element.file] ?? 0, lhs.element.line ?? 0, lhs.offset)
                let right = (fileRank[rhs.element.file] ?? 0, rhs.element.line ?? 0, rhs.offset)
                return left < right
            }
            .map(\.element)
    }

    mutating func config(from document: YAMLDocument) -> TailTrackConfig {
        // An unset `${VAR}` in a credential is a credential problem; the others are thrown.
        var unusableCredentials: Set<String> = []
        for error in document.errors {
            if let keyPath = error.keyPath, Self.credentialKeyPaths.contains(keyPath) {
                credentialReader.append(error)
                unusableCredentials.insert(keyPath)
            } else {
                reader.append(error)
            }
        }
        var config = TailTrackConfig(file: file)
        guard let top = reader.section(document.root, at: "", allowed: Self.topLevelKeys) else { return config }

        config.track = track(top, unusableCredentials: unusableCredentials)
        if let batch = section(top, "batch", allowed: BatchKeys.all) { config.batch = self.batch(batch) }
        if let retry = section(top, "retry", allowed: ["initial_backoff", "max_backoff", "auth_backoff"]) {
            config.retry = self.retry(retry)
        }
        if let deadLetter = section(top, "dead_letter", allowed: ["max_bytes", "keep"]) {
            config.deadLetter = self.deadLetter(deadLetter)
        }
        if let tail = section(top, "tail", allowed: TailKeys.all) { config.tail = self.tail(tail) }
        if let stateDirectory = reader.string(top, "state_dir") {
            if stateDirectory.isEmpty {
                reader.fail(top.value("state_dir")?.location ?? top.location, "state_dir", "must not be empty")
            } else {
                config.stateDirectory = ConfigFile.resolve(stateDirectory, against: directory)
            }
        }
        config.sources = sources(top)
        if let rules = top.value("rules") {
            var expander = RuleListExpander(environment: environment)
            config.rules = expander.rules(from: rules, keyPath: "rules", directory: directory, depth: 0)
            rulesErrors = expander.reader.errors
        }
        if let output = top.value("output") { config.output = self.output(output) ?? .track }
        if let timeout = reader.duration(top, "shutdown_timeout", positive: false) { config.shutdownTimeout = timeout }
        if let level = reader.choice(top, "log_level", among: Self.logLevels) { config.logLevel = level }
        if let metrics = section(top, "metrics", allowed: ["listen", "unhealthy_after"]) {
            config.metrics = self.metrics(metrics)
        }
        return config
    }

    /// The sub-section `key` of `parent`, or `nil` when absent or not a mapping (reported).
    private mutating func section(_ parent: ConfigSection, _ key: String, allowed: [String]) -> ConfigSection? {
        guard let spec = parent.value(key) else { return nil }
        return reader.section(spec, at: parent.path(key), allowed: allowed)
    }

    // MARK: track

    private mutating func track(_ top: ConfigSection, unusableCredentials: Set<String>) -> TrackSettings {
        var settings = TrackSettings()
        let allowed = ["region", "url", "site_id", "api_key", "api_key_file", "connect_timeout", "timeout"]
        // Without `track:` the section is empty, so that missing credentials are still reported.
        let track =
            section(top, "track", allowed: allowed)
            ?? ConfigSection(
                keyPath: "track", location: top.members["track"]?.keyLocation ?? top.location, members: [:])
        if let region = reader.choice(track, "region", among: TrackSettings.Region.allCases.map(\.rawValue)) {
            settings.region = TrackSettings.Region(rawValue: region) ?? .us
        }
        if let url = reader.string(track, "url") {
            settings.url = validatedURL(
                url, at: track.value("url")?.location ?? track.location, keyPath: track.path("url"))
        }
        if let timeout = reader.duration(track, "connect_timeout", positive: true) { settings.connectTimeout = timeout }
        if let timeout = reader.duration(track, "timeout", positive: true) { settings.requestTimeout = timeout }
        readCredentials(track, top: top, unusable: unusableCredentials, into: &settings)
        settings.credentialErrors = credentialReader.errors.sorted { ($0.line ?? 0) < ($1.line ?? 0) }
        return settings
    }

    /// `http://` or `https://` with a host, trailing slashes removed.
    private mutating func validatedURL(_ url: String, at location: SourceLocation, keyPath: String) -> String? {
        let lowercased = url.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lowercased.hasPrefix($0) }) else {
            reader.fail(location, keyPath, "\"\(url)\" must start with http:// or https://")
            return nil
        }
        var trimmed = Substring(url)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard trimmed.count > scheme.count else {
            reader.fail(location, keyPath, "\"\(url)\" has no host")
            return nil
        }
        return String(trimmed)
    }

    /// `site_id` and one of `api_key` / `api_key_file`. Every message here leaves the values out.
    private mutating func readCredentials(
        _ track: ConfigSection,
        top: ConfigSection,
        unusable: Set<String>,
        into settings: inout TrackSettings
    ) {
        // Without `track:` at all, one error at the top of the file names the section.
        guard let trackKey = top.members["track"]?.keyLocation else {
            credentialReader.append(
                ConfigError(
                    file: file, line: top.location.line, keyPath: nil,
                    message: "missing required key \"track\" (with site_id, and api_key or api_key_file)"))
            return
        }
        func missing(_ message: String) -> ConfigError {
            ConfigError(at: trackKey, keyPath: "track", message: message)
        }

        if !unusable.contains("track.site_id") {
            if let siteID = credentialReader.string(track, "site_id") {
                if siteID.isEmpty {
                    credentialReader.fail(
                        track.value("site_id")?.location ?? track.location, "track.site_id", "is empty")
                } else {
                    settings.siteID = siteID
                }
            } else if track.value("site_id") == nil {
                credentialReader.append(missing("missing required key \"site_id\""))
            }
        }

        let hasKey = track.members["api_key"] != nil
        let hasKeyFile = track.members["api_key_file"] != nil
        if hasKey, hasKeyFile {
            let location = track.members["api_key_file"]?.keyLocation ?? track.location
            credentialReader.fail(location, "track.api_key_file", "give either api_key or api_key_file, not both")
            return
        }
        if hasKey {
            guard !unusable.contains("track.api_key") else { return }
            guard let key = credentialReader.string(track, "api_key") else {
                if track.value("api_key") == nil {
                    credentialReader.fail(
                        track.members["api_key"]?.keyLocation ?? track.location, "track.api_key", "is empty")
                }
                return
            }
            guard !key.isEmpty else {
                credentialReader.fail(track.value("api_key")?.location ?? track.location, "track.api_key", "is empty")
                return
            }
            settings.apiKey = Secret(key)
        } else if hasKeyFile {
            guard !unusable.contains("track.api_key_file") else { return }
            let location = track.value("api_key_file")?.location ?? track.location
            guard let path = credentialReader.string(track, "api_key_file") else {
                if track.value("api_key_file") == nil {
                    credentialReader.fail(
                        location, "track.api_key_file", "expected the path of a file holding the API key")
                }
                return
            }
            settings.apiKey = apiKey(fromFile: path, at: location)
        } else {
            credentialReader.append(missing("missing required key \"api_key\" or \"api_key_file\""))
        }
    }

    /// The key in `path`, trailing whitespace removed. A relative path is looked up in
    /// `$CREDENTIALS_DIRECTORY` (systemd's `LoadCredential=`) when set, else next to the config.
    private mutating func apiKey(fromFile path: String, at location: SourceLocation) -> Secret? {
        guard !path.isEmpty else {
            credentialReader.fail(location, "track.api_key_file", "must not be empty")
            return nil
        }
        var base = directory
        if let credentials = environment["CREDENTIALS_DIRECTORY"], !credentials.isEmpty {
            base = credentials
        }
        let resolved = ConfigFile.resolve(path, against: base)
        switch ConfigFile.read(resolved) {
        case .failure(let failure):
            credentialReader.fail(location, "track.api_key_file", "cannot read \(resolved): \(failure.reason)")
            return nil
        case .success(let content):
            var key = Substring(content)
            while let last = key.last, last.isWhitespace { key = key.dropLast() }
            guard !key.isEmpty else {
                credentialReader.fail(location, "track.api_key_file", "\(resolved) is empty")
                return nil
            }
            return Secret(String(key))
        }
    }

    // MARK: batch, retry, dead_letter, tail

    private enum BatchKeys {
        static let all = ["max_bytes", "flush_interval", "max_in_flight", "max_requests_per_second", "queue_bytes"]
    }

    private mutating func batch(_ batch: ConfigSection) -> BatchSettings {
        var settings = BatchSettings()
        if let spec = batch.value("max_bytes"), let bytes = reader.size(batch, "max_bytes", in: 0...Int64.max) {
            let limit = Int64(BatchSettings.trackRequestLimit)
            if bytes > limit {
                reader.fail(spec.location, batch.path("max_bytes"), "\(bytes) is above Track's limit of \(limit) bytes")
            } else if bytes < 1000 {
                reader.fail(spec.location, batch.path("max_bytes"), "\(bytes) is below the minimum of 1000 bytes")
            } else {
                settings.maxBytes = Int(bytes)
            }
        }
        if let interval = reader.duration(batch, "flush_interval", positive: true) { settings.flushInterval = interval }
        if let count = reader.integer(batch, "max_in_flight", in: 1...64) { settings.maxInFlight = count }
        if let rate = reader.positiveNumber(batch, "max_requests_per_second") { settings.maxRequestsPerSecond = rate }
        if let spec = batch.value("queue_bytes"), let bytes = reader.size(batch, "queue_bytes", in: 1...Int64(Int.max))
        {
            if bytes < Int64(settings.maxBytes) {
                reader.fail(
                    spec.location,
                    batch.path("queue_bytes"),
                    "\(bytes) is below batch.max_bytes (\(settings.maxBytes)); the queue must hold a whole request"
                )
            } else {
                settings.queueBytes = Int(bytes)
            }
        }
        return settings
    }

    private mutating func retry(_ retry: ConfigSection) -> RetrySettings {
        var settings = RetrySettings()
        if let backoff = reader.duration(retry, "initial_backoff", positive: true) { settings.initialBackoff = backoff }
        if let spec = retry.value("max_backoff"), let backoff = reader.duration(retry, "max_backoff", positive: true) {
            if backoff < settings.initialBackoff {
                reader.fail(spec.location, retry.path("max_backoff"), "must not be shorter than retry.initial_backoff")
            } else {
                settings.maxBackoff = backoff
            }
        }
        if let backoff = reader.duration(retry, "auth_backoff", positive: true) { settings.authBackoff = backoff }
        return settings
    }

    private mutating func deadLetter(_ deadLetter: ConfigSection) -> DeadLetterSettings {
        var settings = DeadLetterSettings()
        if let bytes = reader.size(deadLetter, "max_bytes", in: 1...Int64(Int.max)) { settings.maxBytes = Int(bytes) }
        if let keep = reader.integer(deadLetter, "keep", in: 0...1000) { settings.keep = keep }
        return settings
    }

    private enum TailKeys {
        static let all = [
            "max_line_bytes", "read_bytes", "poll_interval", "inotify", "partial_line_timeout",
            "deleted_file_timeout", "max_deleted_bytes",
        ]
    }

    private mutating func tail(_ tail: ConfigSection) -> TailSettings {
        var settings = TailSettings()
        if let bytes = reader.size(tail, "max_line_bytes", in: 1...Int64(Int32.max)) {
            settings.maxLineBytes = Int(bytes)
        }
        if let bytes = reader.size(tail, "read_bytes", in: 1...Int64(Int32.max)) { settings.readBytes = Int(bytes) }
        if let interval = reader.duration(tail, "poll_interval", positive: true) { settings.pollInterval = interval }
        if let inotify = reader.bool(tail, "inotify") { settings.useInotify = inotify }
        if let timeout = reader.duration(tail, "partial_line_timeout", positive: false) {
            settings.partialLineTimeout = timeout
        }
        if let timeout = reader.duration(tail, "deleted_file_timeout", positive: false) {
            settings.deletedFileTimeout = timeout
        }
        if let bytes = reader.size(tail, "max_deleted_bytes", in: 0...Int64.max) { settings.maxDeletedBytes = bytes }
        return settings
    }

    // MARK: sources

    private mutating func sources(_ top: ConfigSection) -> [SourceSettings] {
        guard let spec = top.value("sources"), let items = reader.list(spec, at: "sources") else { return [] }
        var sources: [SourceSettings] = []
        var firstIndexByName: [String: Int] = [:]
        let allowed = ["name", "paths", "exclude", "start_at", "backfill_rotated", "rotated_dir"]
        for (index, item) in items.enumerated() {
            guard let source = reader.section(item, at: "sources[\(index)]", allowed: allowed) else { continue }
            var valid = true
            let name = reader.string(source, "name")
            if let name, let nameSpec = source.value("name") {
                if !Self.isValidSourceName(name) {
                    reader.fail(
                        nameSpec.location,
                        source.path("name"),
                        "\"\(name)\" may contain only letters, digits, \"_\", \".\" and \"-\""
                    )
                    valid = false
                } else if let first = firstIndexByName[name] {
                    reader.fail(
                        nameSpec.location, source.path("name"), "\"\(name)\" is already the name of sources[\(first)]")
                    valid = false
                } else {
                    firstIndexByName[name] = index
                }
            } else if source.value("name") == nil {
                reader.fail(source.location, source.keyPath, "missing required key \"name\"")
                valid = false
            } else {
                valid = false
            }
            let paths = reader.stringList(source, "paths")
            if paths == nil {
                if source.value("paths") == nil {
                    reader.fail(source.location, source.keyPath, "missing required key \"paths\"")
                }
                valid = false
            } else if paths?.isEmpty == true {
                reader.fail(
                    source.value("paths")?.location ?? source.location, source.path("paths"),
                    "must name at least one path")
                valid = false
            }
            let exclude = reader.stringList(source, "exclude")
            let startAt = reader.choice(source, "start_at", among: SourceSettings.StartAt.allCases.map(\.rawValue))
            let backfill = reader.bool(source, "backfill_rotated")
            let rotatedDirectory = reader.string(source, "rotated_dir")
            guard valid, let name, let paths else { continue }
            sources.append(
                SourceSettings(
                    name: name,
                    paths: paths.map { ConfigFile.resolve($0, against: directory) },
                    exclude: exclude ?? [],
                    startAt: startAt.flatMap(SourceSettings.StartAt.init(rawValue:)) ?? .end,
                    backfillRotated: backfill ?? true,
                    rotatedDirectory: rotatedDirectory,
                    location: source.value("name")?.location ?? source.location
                )
            )
        }
        return sources
    }

    /// `[A-Za-z0-9_.-]+`
    private static func isValidSourceName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                        || scalar == "_" || scalar == "." || scalar == "-")
            }
    }

    // MARK: output, metrics

    /// `output: track` or `output: { file: PATH }`.
    private mutating func output(_ spec: ValueSpec) -> OutputSettings? {
        if case .string("track") = spec.kind { return .track }
        guard spec.members != nil else {
            reader.fail(spec.location, "output", "\(reader.shown(spec)) is not one of track, { file: PATH }")
            return nil
        }
        guard let output = reader.section(spec, at: "output", allowed: ["file"]) else { return nil }
        guard output.value("file") != nil else {
            reader.fail(output.location, "output", "missing required key \"file\"")
            return nil
        }
        guard let path = reader.string(output, "file") else { return nil }
        guard !path.isEmpty else {
            reader.fail(output.value("file")?.location ?? output.location, "output.file", "must not be empty")
            return nil
        }
        return .file(path: ConfigFile.resolve(path, against: directory))
    }

    private mutating func metrics(_ metrics: ConfigSection) -> MetricsSettings {
        var settings = MetricsSettings()
        if let listen = reader.string(metrics, "listen") {
            if Self.isHostAndPort(listen) {
                settings.listen = listen
            } else {
                reader.fail(
                    metrics.value("listen")?.location ?? metrics.location,
                    metrics.path("listen"),
                    "\"\(listen)\" is not HOST:PORT (such as 127.0.0.1:9464)"
                )
            }
        }
        if let after = reader.duration(metrics, "unhealthy_after", positive: true) { settings.unhealthyAfter = after }
        return settings
    }

    /// `host:port` or `[v6]:port`, port 0–65535.
    private static func isHostAndPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":") else { return false }
        let host = text[..<colon]
        let port = text[text.index(after: colon)...]
        guard !host.isEmpty, let number = Int(port), (0...65_535).contains(number) else { return false }
        if host.hasPrefix("[") { return host.hasSuffix("]") && host.count > 2 }
        return !host.contains(":") && !host.contains(" ")
    }
}
