/// The whole configuration of an agent, typed and validated.
///
/// Built from YAML by ``TailTrackConfig/load(path:environment:)`` (in `TailTrackConfig+YAML.swift`).
/// Every property has a documented default so that a config only says what differs.
public struct TailTrackConfig: Sendable {
    /// The config file this was loaded from.
    public var file: String
    /// Where and how to reach Track.
    public var track: TrackSettings
    /// How operations are packed into requests.
    public var batch: BatchSettings
    /// How failed requests are retried.
    public var retry: RetrySettings
    /// Where rejected operations go.
    public var deadLetter: DeadLetterSettings
    /// How files are followed (shared by all sources).
    public var tail: TailSettings
    /// Where positions and dead letters live. Default `/var/lib/tailtrack`.
    public var stateDirectory: String
    /// The log sources, in config order.
    public var sources: [SourceSettings]
    /// Every rule, in order, includes expanded where they stand; compiled by the rules stage.
    public var rules: [ValueSpec]
    /// Where operations go: Track (default) or a local file.
    public var output: OutputSettings
    /// How long SIGTERM may spend flushing before positions are saved and the agent exits.
    /// Default 10 s.
    public var shutdownTimeout: Duration
    /// `trace`, `debug`, `info` (default), `notice`, `warning`, `error`, `critical`.
    public var logLevel: String
    /// The optional Prometheus endpoint and health settings.
    public var metrics: MetricsSettings

    public init(
        file: String,
        track: TrackSettings = TrackSettings(),
        batch: BatchSettings = BatchSettings(),
        retry: RetrySettings = RetrySettings(),
        deadLetter: DeadLetterSettings = DeadLetterSettings(),
        tail: TailSettings = TailSettings(),
        stateDirectory: String = "/var/lib/tailtrack",
        sources: [SourceSettings] = [],
        rules: [ValueSpec] = [],
        output: OutputSettings = .track,
        shutdownTimeout: Duration = .seconds(10),
        logLevel: String = "info",
        metrics: MetricsSettings = MetricsSettings()
    ) {
        self.file = file
        self.track = track
        self.batch = batch
        self.retry = retry
        self.deadLetter = deadLetter
        self.tail = tail
        self.stateDirectory = stateDirectory
        self.sources = sources
        self.rules = rules
        self.output = output
        self.shutdownTimeout = shutdownTimeout
        self.logLevel = logLevel
        self.metrics = metrics
    }
}

/// `track:` — the endpoint and credentials.
public struct TrackSettings: Sendable {
    /// `us` → https://track.customer.io, `eu` → https://track-eu.customer.io.
    public enum Region: String, Sendable, CaseIterable {
        case us
        case eu
    }

    /// Default `.us`.
    public var region: Region
    /// `url:` overrides the region (mock servers, proxies). No trailing slash.
    public var url: String?
    /// `site_id:`; `nil` when not configured (only `run` needs it).
    public var siteID: String?
    /// `api_key:` or the content of `api_key_file:` (trailing newline removed).
    public var apiKey: Secret?
    /// Problems with the credentials, kept rather than thrown at load so that `dry-run` and
    /// `test` work without them; `run` and `check` report them.
    public var credentialErrors: [ConfigError]
    /// TCP connect timeout. `connect_timeout:`, default 5 s.
    public var connectTimeout: Duration
    /// Whole-request timeout. `timeout:`, default 30 s.
    public var requestTimeout: Duration

    public init(
        region: Region = .us,
        url: String? = nil,
        siteID: String? = nil,
        apiKey: Secret? = nil,
        credentialErrors: [ConfigError] = [],
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(30)
    ) {
        self.region = region
        self.url = url
        self.siteID = siteID
        self.apiKey = apiKey
        self.credentialErrors = credentialErrors
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
    }

    /// The base URL requests go to: `url` when set, otherwise the region's.
    public var baseURL: String {
        if let url { return url }
        switch region {
        case .us: return "https://track.customer.io"
        case .eu: return "https://track-eu.customer.io"
        }
    }
}

/// `batch:` — request packing.
public struct BatchSettings: Sendable {
    /// Track's limit for one request body.
    public static let trackRequestLimit = TrackLimits.requestBytes
    /// Track's limit for one operation.
    public static let trackOperationLimit = TrackLimits.operationBytes

    /// Whole request body, at most ``trackRequestLimit``. `max_bytes:`, default 500,000.
    public var maxBytes: Int
    /// A partial batch goes out after this long. `flush_interval:`, default 1 s.
    public var flushInterval: Duration
    /// Requests in flight at once. `max_in_flight:`, default 4.
    public var maxInFlight: Int
    /// Fair-use cap on requests per second. `max_requests_per_second:`, default 20.
    public var maxRequestsPerSecond: Double
    /// Encoded bytes waiting for delivery before reading pauses. `queue_bytes:`, default 4 MB.
    public var queueBytes: Int

    public init(
        maxBytes: Int = trackRequestLimit,
        flushInterval: Duration = .seconds(1),
        maxInFlight: Int = 4,
        maxRequestsPerSecond: Double = 20,
        queueBytes: Int = 4_000_000
    ) {
        self.maxBytes = maxBytes
        self.flushInterval = flushInterval
        self.maxInFlight = maxInFlight
        self.maxRequestsPerSecond = maxRequestsPerSecond
        self.queueBytes = queueBytes
    }
}

/// `retry:` — backoff for retryable failures (429, 5xx, timeouts, connection errors).
public struct RetrySettings: Sendable {
    /// First backoff. `initial_backoff:`, default 500 ms.
    public var initialBackoff: Duration
    /// Backoff cap. `max_backoff:`, default 60 s.
    public var maxBackoff: Duration
    /// Retry interval after 401/403 (credentials wrong). `auth_backoff:`, default 5 min.
    public var authBackoff: Duration

    public init(
        initialBackoff: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(60),
        authBackoff: Duration = .seconds(300)
    ) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.authBackoff = authBackoff
    }
}

/// `dead_letter:` — the file of rejected operations.
public struct DeadLetterSettings: Sendable {
    /// Size at which `dead-letter.jsonl` is rotated. `max_bytes:`, default 100 MB.
    public var maxBytes: Int
    /// Rotated dead-letter files kept. `keep:`, default 3.
    public var keep: Int

    public init(maxBytes: Int = 100_000_000, keep: Int = 3) {
        self.maxBytes = maxBytes
        self.keep = keep
    }
}

/// `tail:` — how files are followed.
public struct TailSettings: Sendable {
    /// Longest line accepted; a longer one is skipped and counted. `max_line_bytes:`, default 64 KB.
    public var maxLineBytes: Int
    /// Size of one read. `read_bytes:`, default 256 KB.
    public var readBytes: Int
    /// How often globs are re-scanned and files stat'ed when inotify is unavailable or off.
    /// `poll_interval:`, default 250 ms.
    public var pollInterval: Duration
    /// Use inotify where available. `inotify:`, default true.
    public var useInotify: Bool
    /// How long a partial last line of a rotated file waits for its newline before it is
    /// emitted as a line. `partial_line_timeout:`, default 5 s.
    public var partialLineTimeout: Duration
    /// Longest time a deleted file is held open to finish reading. `deleted_file_timeout:`,
    /// default 1 h.
    public var deletedFileTimeout: Duration
    /// Most bytes of deleted files held open at once; past it the oldest is released and its
    /// unread bytes counted as lost. `max_deleted_bytes:`, default 1 GB.
    public var maxDeletedBytes: Int64

    public init(
        maxLineBytes: Int = 65_536,
        readBytes: Int = 262_144,
        pollInterval: Duration = .milliseconds(250),
        useInotify: Bool = true,
        partialLineTimeout: Duration = .seconds(5),
        deletedFileTimeout: Duration = .seconds(3600),
        maxDeletedBytes: Int64 = 1_000_000_000
    ) {
        self.maxLineBytes = maxLineBytes
        self.readBytes = readBytes
        self.pollInterval = pollInterval
        self.useInotify = useInotify
        self.partialLineTimeout = partialLineTimeout
        self.deletedFileTimeout = deletedFileTimeout
        self.maxDeletedBytes = maxDeletedBytes
    }
}

/// One entry of `sources:`.
public struct SourceSettings: Sendable {
    /// Where a file seen for the first time starts.
    public enum StartAt: String, Sendable, CaseIterable {
        case beginning
        case end
    }

    /// `name:`, unique; rules refer to it.
    public var name: String
    /// `paths:`, globs.
    public var paths: [String]
    /// `exclude:`, globs of paths not to follow (e.g. `*.bak`).
    public var exclude: [String]
    /// `start_at:`, default `.end`.
    public var startAt: StartAt
    /// `backfill_rotated:`: with `start_at: beginning`, also read rotated siblings that exist
    /// at first start (`app.log.2.gz`, `app.log.1`), oldest first. Default true.
    public var backfillRotated: Bool
    /// `rotated_dir:`: where rotated files are moved (logrotate's `olddir`), absolute or
    /// relative to each followed file's directory. Rotated siblings are looked for there as
    /// well as next to the file. Default none.
    public var rotatedDirectory: String?
    /// Where `name:` was written, for errors.
    public var location: SourceLocation

    public init(
        name: String,
        paths: [String],
        exclude: [String] = [],
        startAt: StartAt = .end,
        backfillRotated: Bool = true,
        rotatedDirectory: String? = nil,
        location: SourceLocation
    ) {
        self.rotatedDirectory = rotatedDirectory
        self.name = name
        self.paths = paths
        self.exclude = exclude
        self.startAt = startAt
        self.backfillRotated = backfillRotated
        self.location = location
    }
}

/// `output:` — where operations go.
public enum OutputSettings: Sendable, Equatable {
    /// To Track (the default).
    case track
    /// `output: { file: PATH }`: appended as JSON lines and fsynced, then acknowledged; a
    /// debugging sink that needs no network.
    case file(path: String)
}

/// `metrics:` — Prometheus endpoint and health.
public struct MetricsSettings: Sendable {
    /// `listen:` `host:port`; `nil` (default) serves nothing.
    public var listen: String?
    /// `/healthz` turns unhealthy when deliveries have failed for this long.
    /// `unhealthy_after:`, default 5 min.
    public var unhealthyAfter: Duration

    public init(listen: String? = nil, unhealthyAfter: Duration = .seconds(300)) {
        self.listen = listen
        self.unhealthyAfter = unhealthyAfter
    }
}
