import Logging

/// Compressed files matched at their own path: an archive named in `paths:` (to backfill
/// archived logs, `archive/*.log.gz`), judged by its gzip magic bytes whatever its name. It is
/// read decompressed from its start (or its saved uncompressed position), once, as a rotated
/// .gz is: a finished file whose last line is flushed at once, released when acknowledged and
/// then remembered as read (``SiblingLedger/compressedPaths``), its position kept.
extension TailerCore {
    /// Follows the compressed file at a matched path from uncompressed `offset` (its saved
    /// position, whose first line was checked, or 0). When the file ends before the offset it
    /// is not the file saved there (the inode was reused): it is read from its start. `offset`
    /// `nil` (`start_at: end` with nothing saved): nothing in it is new; it is only remembered
    /// as read.
    func startCompressed(
        source: SourceSettings, path: String, status: FileStatus, offset: UInt64?, now: ContinuousClock.Instant
    ) {
        let pathKey = SourcePath(source: source.name, path: path)
        guard let offset else {
            let file = FileIdentity(device: status.device, inode: status.inode, fingerprint: nil)
            ledger.compressedPaths[pathKey] = .read(file, size: status.size)
            return
        }
        let reader: GzipFileReader
        let openStatus: FileStatus
        var start = offset
        do {
            reader = try GzipFileReader(path: path, bufferBytes: config.tail.readBytes)
            // One pass seeks to the offset and checks that the file is that long.
            if offset > 0, try reader.seekHashingTail(to: offset) == nil {
                start = 0
                try reader.seek(to: 0)
            }
            openStatus = try reader.status()
        } catch {
            budget.openFailed(pathKey, status: status, error: error)
            return
        }
        let file = add(
            source: source.name, family: path, age: .live, path: path, status: openStatus,
            fingerprint: FileIdentity.fingerprint(ofPath: path), reader: reader, offset: start, role: .rotated,
            now: now)
        ledger.compressedPaths[pathKey] = .reading(file.key)
    }

    /// True when the compressed file remembered at `path` is still the file there now (being
    /// read, or read whole and not grown since): the scan leaves the path alone. Otherwise
    /// (another file at the path, or the same one grown by another member) forgets it, and the
    /// path is looked at afresh, from its saved position if it has one.
    func stillCompressed(_ path: SourcePath, status: FileStatus) -> Bool {
        switch ledger.compressedPaths[path] {
        case .reading(let key):
            // Read with the rotated files, which the end of the scan looks at.
            if let file = files[key], file.sameInode(as: status) { return true }
        case .read(let file, let size):
            if file.sameInode(as: status) && size == status.size { return true }
        case nil:
            return false
        }
        ledger.compressedPaths.removeValue(forKey: path)
        return false
    }

    /// Remembers the compressed file at `path`, released, as read (unless it was deleted).
    func compressedFileReleased(_ file: TailedFile, at path: SourcePath) {
        if case .deleted = file.role {
            ledger.compressedPaths.removeValue(forKey: path)
        } else {
            // Its size when its last bytes were read: one found larger later was appended to.
            ledger.compressedPaths[path] = .read(file.identity, size: file.sizeWhenFinished ?? file.size)
        }
    }

    /// True for a followed file never read from that turns out to be gzip: it was empty when
    /// first seen (being compressed into its place).
    func turnedOutCompressed(_ file: TailedFile) -> Bool {
        file.isLive && file.emittedEnd == 0 && file.reader.offset == 0 && !file.reader.isCompressed
            && (try? file.reader.status().size).map { $0 >= 2 } == true && FileIdentity.isGzip(path: file.path)
    }

    /// Follows `file` again as the compressed file it turned out to be, from its start.
    func followAsCompressed(_ file: TailedFile, now: ContinuousClock.Instant) {
        guard let source = config.sources.first(where: { $0.name == file.source }),
            let status = try? file.reader.status()
        else { return }
        release(file)
        startCompressed(source: source, path: file.family, status: status, offset: 0, now: now)
    }
}
