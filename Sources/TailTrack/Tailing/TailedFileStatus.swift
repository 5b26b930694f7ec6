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
