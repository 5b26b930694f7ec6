/// A fingerprint of a file's first bytes of content: what makes a log file the same file
/// after it was renamed (`app.log` → `app.log.1`) or compressed (`app.log.1.gz`), where the
/// inode and path no longer tell.
///
/// It covers the file's first line, at most ``FileFingerprint/headLimit`` bytes of it. That
/// range is fixed as soon as the first line is complete, so the fingerprint of a growing file
/// never changes once any line of it has been read — which keeps operation ids stable.
public struct FileFingerprint: Hashable, Sendable, CustomStringConvertible {
    /// How many bytes of the first line the fingerprint covers at most.
    public static let headLimit = 1024

    /// The hash of the covered bytes.
    public var value: UInt64
    /// How many bytes it covers.
    public var length: Int

    public init(value: UInt64, length: Int) {
        self.value = value
        self.length = length
    }

    /// The fingerprint of a file that begins with `head`, or `nil` while the file is too
    /// short to have one (no complete first line and fewer than ``headLimit`` bytes).
    public static func compute(head: UnsafeRawBufferPointer) -> FileFingerprint? {
        let window = min(head.count, headLimit)
        var covered = -1
        for index in 0..<window where head[index] == UInt8(ascii: "\n") {
            covered = index + 1
            break
        }
        if covered < 0 {
            guard head.count >= headLimit else { return nil }
            covered = headLimit
        }
        let slice = UnsafeRawBufferPointer(rebasing: head[0..<covered])
        return FileFingerprint(value: StableHasher.hash64(bytes: slice), length: covered)
    }

    /// The fingerprint as 16 hexadecimal digits, as `status` and the checkpoint show it.
    public var description: String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
