/// Identifies a checkpoint entry: one file (device and inode) followed for one source.
public struct CheckpointKey: Hashable, Sendable {
    public var source: String
    public var device: UInt64
    public var inode: UInt64

    public init(source: String, device: UInt64, inode: UInt64) {
        self.source = source
        self.device = device
        self.inode = inode
    }
}

/// The durable position of one input unit, saved once its lines are acknowledged.
///
/// For a followed file (the file input): everything needed to find the file again after a
/// restart (even renamed or compressed) and to resume it exactly after the last acknowledged
/// line. For an input whose position is not a byte offset (the journal's cursor), ``cursor``
/// holds the input's own position text and `device`/`inode` name the unit within its source
/// (0 and 0 for a source with a single unit); the store saves it like any other entry.
public struct CheckpointEntry: Sendable, Equatable {
    /// The source (`sources[].name`) the file belongs to.
    public var source: String
    /// Where the file was last seen.
    public var path: String
    public var device: UInt64
    public var inode: UInt64
    /// The file's fingerprint; `nil` while it had no complete first line.
    public var fingerprint: FileFingerprint?
    /// Uncompressed offset just after the last acknowledged line.
    public var offset: UInt64
    /// ``FileIdentity/tailHash(of:before:)`` at ``offset``; `nil` at offset 0 or for a .gz.
    public var tailHash: UInt64?
    /// The file's size when last looked at.
    public var size: UInt64
    /// When the entry was last updated, in seconds since the epoch.
    public var updated: Int64
    /// The input's own position (a journal cursor), for inputs whose position is not
    /// ``offset``; `nil` for files. Saved as `cursor`, absent from files' entries, so a state
    /// written before it existed reads unchanged.
    public var cursor: String?

    public init(
        source: String,
        path: String,
        device: UInt64,
        inode: UInt64,
        fingerprint: FileFingerprint?,
        offset: UInt64,
        tailHash: UInt64?,
        size: UInt64,
        updated: Int64,
        cursor: String? = nil
    ) {
        self.source = source
        self.path = path
        self.device = device
        self.inode = inode
        self.fingerprint = fingerprint
        self.offset = offset
        self.tailHash = tailHash
        self.size = size
        self.updated = updated
        self.cursor = cursor
    }

    public var key: CheckpointKey { CheckpointKey(source: source, device: device, inode: inode) }
    public var identity: FileIdentity { FileIdentity(device: device, inode: inode, fingerprint: fingerprint) }
}

/// A saved position names its file by device and inode, as a followed file does.
extension CheckpointEntry: InodeIdentified {}
