import Glibc

/// The process's limit on open file descriptors (`RLIMIT_NOFILE`), which caps how many files
/// the agent can follow at once: every followed file holds one descriptor.
///
/// systemd starts services with a soft limit of 1024 (and a hard limit far above it), so an
/// agent that kept the soft limit could follow about a thousand files; past that every
/// `open` fails, positions can no longer be saved and no socket can be made. The agent
/// raises the soft limit to the hard one at start, and the tailer keeps a reserve of
/// descriptors for positions, sockets, inotify and logs (``followedFileBudget(limit:)``).
enum OpenFileLimit {
    /// The soft limit now (`Int.max` when unlimited).
    static var current: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Self.value(limit.rlim_cur)
    }

    /// Raises the soft limit to the hard one; returns the soft limit before and after (the
    /// same when it was already there or could not be raised).
    @discardableResult
    static func raiseToHardLimit() -> (before: Int, after: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (current, current) }
        let before = value(limit.rlim_cur)
        guard limit.rlim_cur < limit.rlim_max else { return (before, before) }
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 else { return (before, before) }
        return (before, value(raised.rlim_cur))
    }

    /// Descriptors kept free of followed files under a soft limit of `limit`: a quarter of
    /// it, at least 64 and at most 256 (the checkpoint and its journal, dead letters, HTTP
    /// connections, the metrics endpoint, inotify, rotated files being finished).
    static func reserve(limit: Int) -> Int {
        max(64, min(256, limit / 4))
    }

    /// Most live files the tailer follows at once under a soft limit of `limit`.
    static func followedFileBudget(limit: Int) -> Int {
        max(1, limit - reserve(limit: limit))
    }

    private static func value(_ raw: rlim_t) -> Int {
        raw > rlim_t(Int.max) ? Int.max : Int(raw)
    }
}
