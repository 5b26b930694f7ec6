/// One followed file as `tailtrack status` shows it.
public struct TailedFileStatus: Sendable, Equatable {
    public var source: String
    public var path: String
    public var identity: FileIdentity
    /// Offset just after the last acknowledged line.
    public var committedOffset: UInt64
    /// The file's size (compressed size for a .gz; 0 when it is gone).
    public var size: UInt64
    /// Bytes not yet acknowledged; `nil` when unknown (a .gz, or a file no longer there).
    public var bytesBehind: UInt64?
    /// `live`, `rotated`, `deleted`, `unreadable` (matched, cannot be opened: retried), or for
    /// an offline status `present`, `moved`, `gone`, `new` (matched, nothing saved yet) or
    /// `unreadable`.
    public var state: String

    /// The state of a matched file that cannot be opened.
    public static let unreadable = "unreadable"

    public init(
        source: String, path: String, identity: FileIdentity, committedOffset: UInt64, size: UInt64,
        bytesBehind: UInt64?, state: String
    ) {
        self.source = source
        self.path = path
        self.identity = identity
        self.committedOffset = committedOffset
        self.size = size
        self.bytesBehind = bytesBehind
        self.state = state
    }
}

extension TailedFile {
    var statusText: String {
        switch role {
        case .live: return "live"
        case .rotated: return "rotated"
        case .deleted: return "deleted"
        }
    }
}

/// The followed files in brief, as the once-a-second snapshot takes them: counts, and the
/// statuses of only the files that are behind. With 10,000 quiet files followed, a status for
/// each every second would cost more than following them.
public struct TailedFilesSummary: Sendable, Equatable {
    /// Files being followed (not counting unreadable ones).
    public var followed: Int
    /// Matched files that cannot be opened (retried at every scan).
    public var unreadable: Int
    /// The files with bytes not yet acknowledged.
    public var behind: [TailedFileStatus]

    public init(followed: Int = 0, unreadable: Int = 0, behind: [TailedFileStatus] = []) {
        self.followed = followed
        self.unreadable = unreadable
        self.behind = behind
    }

    /// The summary of a full status list (`tailtrack status`'s).
    public init(_ statuses: [TailedFileStatus]) {
        let unreadable = statuses.filter { $0.state == TailedFileStatus.unreadable }.count
        self.init(
            followed: statuses.count - unreadable, unreadable: unreadable,
            behind: statuses.filter { ($0.bytesBehind ?? 0) > 0 })
    }

    /// Bytes not yet acknowledged, over the files whose size is known.
    public var bytesBehind: UInt64 { behind.reduce(0) { $0 + ($1.bytesBehind ?? 0) } }
}
