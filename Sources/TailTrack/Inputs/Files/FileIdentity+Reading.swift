import Glibc

/// Reading a file's identity from disk: its fingerprint (plain or gzip) and the hash of the
/// bytes before a saved offset. The file input's part of ``FileIdentity``, kept here so that
/// the shared type knows nothing of readers.
extension FileIdentity {
    /// The fingerprint of an open plain file, or `nil` while it has no complete first line.
    public static func fingerprint(of reader: PlainFileReader) throws -> FileFingerprint? {
        var head = [UInt8](repeating: 0, count: FileFingerprint.headLimit)
        let count = try head.withUnsafeMutableBytes { try reader.readAt(0, into: $0) }
        return head.withUnsafeBytes { FileFingerprint.compute(head: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// The fingerprint of a file at `path`, plain or gzip (decided by its first bytes), or
    /// `nil` when it is too short or unreadable.
    public static func fingerprint(ofPath path: String) -> FileFingerprint? {
        if isGzip(path: path) {
            guard let reader = try? GzipFileReader(path: path, bufferBytes: FileFingerprint.headLimit) else {
                return nil
            }
            defer { reader.close() }
            var head: [UInt8] = []
            while head.count < FileFingerprint.headLimit {
                guard
                    let outcome = try? reader.read(maxBytes: FileFingerprint.headLimit - head.count, { head += $0 }),
                    case .bytes = outcome
                else { break }
            }
            return head.withUnsafeBytes { FileFingerprint.compute(head: $0) }
        }
        guard let reader = try? PlainFileReader(path: path, bufferBytes: 4096) else { return nil }
        defer { reader.close() }
        return try? fingerprint(of: reader)
    }

    /// The hash of the up to ``tailWindow`` bytes just before `offset`: saved with a
    /// position and checked on resume, so that a file truncated and rewritten (or replaced)
    /// while the agent was down is noticed even when its first line is unchanged. `nil`
    /// when the file is shorter than `offset` or `offset` is 0.
    public static func tailHash(of reader: PlainFileReader, before offset: UInt64) throws -> UInt64? {
        guard offset > 0 else { return nil }
        let start = offset >= UInt64(tailWindow) ? offset - UInt64(tailWindow) : 0
        let wanted = Int(offset - start)
        var window = [UInt8](repeating: 0, count: wanted)
        let got = try window.withUnsafeMutableBytes { try reader.readAt(start, into: $0) }
        guard got == wanted else { return nil }
        return window.withUnsafeBytes { StableHasher.hash64(bytes: $0) }
    }

    /// True when the file at `path` starts with the gzip magic bytes.
    public static func isGzip(path: String) -> Bool {
        let fd = FollowedFileOpen.descriptor(path: path)
        guard fd >= 0 else { return false }
        defer { _ = Glibc.close(fd) }
        var magic: (UInt8, UInt8) = (0, 0)
        let got = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) }
        return got == 2 && magic == gzipMagic
    }
}
