/// What makes a followed file the same file: where it lives on disk (device and inode,
/// which survive a rename) and what it begins with (``FileFingerprint``, which survives a
/// copy or compression into a new inode).
///
/// The fingerprint is `nil` while the file has no complete first line yet (an empty or
/// just-created file): such a file is still followed, with a provisional identity that is
/// completed when its first newline appears. Files that begin with the same line (a common
/// header) are told apart by device and inode while they exist, and by ``tailHash(of:before:)``
/// on resume.
public struct FileIdentity: Hashable, Sendable, CustomStringConvertible, InodeIdentified {
    /// How many bytes before a saved offset ``tailHash(of:before:)`` covers.
    public static let tailWindow = 256

    public var device: UInt64
    public var inode: UInt64
    public var fingerprint: FileFingerprint?

    public init(device: UInt64, inode: UInt64, fingerprint: FileFingerprint?) {
        self.device = device
        self.inode = inode
        self.fingerprint = fingerprint
    }

    /// `dev:inode:fingerprint`, as `status` shows it.
    public var description: String {
        "\(device):\(inode):\(fingerprint?.description ?? "pending")"
    }

    /// The first two bytes of every gzip file.
    static let gzipMagic: (UInt8, UInt8) = (0x1F, 0x8B)
}

/// A file named by where it lives on disk: its device and inode, which survive a rename (a
/// file's status, its identity, a followed file, a saved position).
public protocol InodeIdentified {
    var device: UInt64 { get }
    var inode: UInt64 { get }
}

extension InodeIdentified {
    /// True when both are the same inode on the same device: the same file, whatever its
    /// name, size or content now.
    public func sameInode(as other: some InodeIdentified) -> Bool {
        device == other.device && inode == other.inode
    }
}
