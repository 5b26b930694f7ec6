import Logging

/// Rotation of the live files: growth, truncation in place (copytruncate) and the live file
/// leaving its path (renamed or deleted).
extension TailerCore {
    /// How far past the read position the tail check of a written file reads: a few lines.
    static let tailCheckReadAhead = 4096

    /// The live file at its path again (same inode): notes growth, and truncation in place
    /// (copytruncate).
    func refreshLive(_ file: TailedFile, source: SourceSettings, status: FileStatus, now: ContinuousClock.Instant) {
        let changed = status.size != file.size
        if changed { file.lastActivity = now }
        file.size = status.size
        if isTruncated(file, status: status, sizeChanged: changed) {
            handleCopytruncate(file, source: source, path: file.family, status: status, now: now)
        } else if status.size > file.reader.offset {
            markDue(file)
        }
    }

    /// ``refreshLive(_:source:status:now:)`` for a written file without its `fstat`: one
    /// `pread` from just before what was handed out finds the bytes there unchanged and the
    /// file's end within a few KiB (the read that follows takes the new bytes from it).
    /// Returns false, having changed nothing, when that pread cannot tell: the file shrank or
    /// was rewritten (the `fstat` path then handles the truncation), or grew by more.
    func refreshByTailCheck(_ file: TailedFile, now: ContinuousClock.Instant) -> Bool {
        let reader = file.reader
        guard file.emittedEnd > 0, let expected = file.tailHashAtEmittedEnd,
            (try? reader.tailHash(before: file.emittedEnd, readAhead: Self.tailCheckReadAhead)) == expected,
            let size = reader.sizeSeenByTailCheck, size >= reader.offset
        else { return false }
        if size != file.size { file.lastActivity = now }
        file.size = size
        if size > reader.offset { markDue(file) }
        return true
    }

    /// True when the live file shrank below what was read, or the bytes just before the
    /// read position changed (truncated and rewritten past the old size between two looks).
    private func isTruncated(_ file: TailedFile, status: FileStatus, sizeChanged: Bool) -> Bool {
        if status.size < file.reader.offset { return true }
        guard sizeChanged, file.emittedEnd > 0, let expected = file.tailHashAtEmittedEnd else { return false }
        // It grew: the read that follows takes its new bytes from this same pread. Asking for
        // more than it grew by makes the pread short, which tells the read it reached the end.
        let grown = Int(clamping: status.size.subtractingClamped(file.reader.offset))
        let current = try? file.reader.tailHash(
            before: file.emittedEnd, readAhead: min(grown + 4096, config.tail.readBytes))
        return current != expected
    }

    /// copytruncate: the lines not yet read are in the copy (`app.log.1`, found by
    /// fingerprint); the follower continues there, and the truncated original restarts at 0.
    private func handleCopytruncate(
        _ file: TailedFile, source: SourceSettings, path: String, status: FileStatus, now: ContinuousClock.Instant
    ) {
        let oldKey = file.checkpointKey
        liveByPath.removeValue(forKey: SourcePath(source: source.name, path: path))
        setRole(file, .rotated)
        if let copy = continueInCopy(
            file, among: ledger.siblings(of: path, source: source.name, fresh: true), now: now,
            where: { _, sibling in !sibling.sameInode(as: status) })
        {
            logger.info(
                "File was truncated in place; finishing its copy",
                metadata: ["file.path": "\(path)", "file.copy": "\(copy)"])
        } else {
            let unread = file.size.subtractingClamped(file.reader.offset)
            logger.warning(
                "File was truncated in place and no copy of it was found; unread lines are lost",
                metadata: ["file.path": "\(path)"])
            lostBytes += unread
            file.writesCheckpoint = false
            file.finished = true
            checkpoint.remove(oldKey)
        }
        startLive(source: source, path: path, status: status, offset: 0, now: now)
    }

    /// The live file left its path: renamed (keep reading it to its end) or deleted.
    func detach(_ file: TailedFile, now: ContinuousClock.Instant) {
        liveByPath.removeValue(forKey: SourcePath(source: file.source, path: file.family))
        let status = try? file.reader.status()
        if let status, status.linkCount == 0 {
            setRole(file, .deleted(since: now))
        } else {
            setRole(file, .rotated)
            if let sibling = ledger.siblings(of: file.family, source: file.source, fresh: true).first(where: {
                sibling in
                (try? FileStatus.of(path: sibling.path))?.sameInode(as: file) ?? false
            }) {
                file.path = sibling.path
                file.age = sibling.age
                readOrderValid = false
            }
        }
        if let status { file.size = status.size }
        markDue(file)
        file.lastActivity = now
    }
}
