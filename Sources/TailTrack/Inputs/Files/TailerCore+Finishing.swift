import Logging

/// Finishing rotated and deleted files: flushing the last line of a file that stopped
/// growing, releasing it once acknowledged, the deleted-file limits, and continuing a file in
/// its copy (a copytruncate's, or a deleted file's compressed copy).
extension TailerCore {
    /// Flushes a non-live file that stopped growing, and releases it once everything read
    /// from it is acknowledged. Returns the flushed last line's chunk, if any.
    func finishIfDone(_ file: TailedFile, now: ContinuousClock.Instant) -> LineChunk? {
        guard !file.isLive else { return nil }
        var chunk: LineChunk?
        if !file.finished && file.reachedEnd && !file.readDue {
            let idle = file.lastActivity.duration(to: now)
            if file.gzipTruncated {
                if idle >= config.tail.deletedFileTimeout {
                    logger.warning(
                        "Compressed file ended before its footer and stopped growing; giving up on it",
                        metadata: ["file.path": "\(file.path)"])
                    file.finished = true
                }
            } else if file.reader.isCompressed || idle >= config.tail.partialLineTimeout {
                chunk = file.flush()
                file.finished = true
            }
        }
        if file.finished && file.fullyAcknowledged {
            if case .deleted = file.role, file.writesCheckpoint {
                checkpoint.remove(file.checkpointKey)
            }
            release(file)
        }
        return chunk
    }

    /// Caps how long and how much deleted-but-open files are held: past the limits the
    /// oldest is released and its unread bytes are counted and logged as lost.
    func enforceDeletedLimits(now: ContinuousClock.Instant) {
        var deleted: [(file: TailedFile, since: ContinuousClock.Instant)] = nonLiveKeys.compactMap { files[$0] }
            .compactMap {
                if case .deleted(let since) = $0.role { return ($0, since) }
                return nil
            }
        deleted.sort { $0.since < $1.since }
        var held = deleted.reduce(Int64(0)) { $0 + Int64($1.file.size) }
        for (file, since) in deleted {
            let expired = since.duration(to: now) >= config.tail.deletedFileTimeout
            guard expired || held > config.tail.maxDeletedBytes else { continue }
            let heldByFile = Int64(file.size)
            if continueInCompressedCopy(file, now: now) {
                held -= heldByFile
                continue
            }
            // Bytes not handed over (a partial line included) are the ones lost.
            let unread = file.size.subtractingClamped(file.emittedEnd)
            if unread > 0 {
                lostBytes += unread
                logger.warning(
                    "Released a deleted file before reading all of it",
                    metadata: [
                        "file.path": "\(file.path)", "lost.bytes": "\(unread)",
                        "reason": "\(expired ? "deleted_file_timeout" : "max_deleted_bytes")",
                    ])
            }
            held -= Int64(file.size)
            if file.writesCheckpoint { checkpoint.remove(file.checkpointKey) }
            release(file)
        }
    }

    /// A deleted file that logrotate compressed (`app.log.1` → `app.log.1.gz`) is still all
    /// there: instead of giving up its unread bytes, reading continues in the .gz at the same
    /// uncompressed offset, and the deleted file's space is freed.
    private func continueInCompressedCopy(_ file: TailedFile, now: ContinuousClock.Instant) -> Bool {
        let followed = followedFiles(source: file.source, family: file.family)
        guard
            let copy = continueInCopy(
                file, among: ledger.siblings(of: file.family, source: file.source), now: now,
                where: { path, status in
                    FileIdentity.isGzip(path: path) && !followed.contains(where: { $0.sameInode(as: status) })
                })
        else { return false }
        logger.info(
            "Deleted file was compressed; finishing it from its compressed copy",
            metadata: ["file.path": "\(copy)", "file.offset": "\(file.framer.offset)"])
        return true
    }

    /// Continues reading `file` in its copy: the newest of `siblings` that `accepts` and that
    /// begins with the file's first line, opened at the uncompressed offset reached. The file
    /// becomes that copy (a rotated file, its position saved under the copy's identity).
    /// Returns the copy's path, or `nil` when no copy was found (the file is unchanged).
    func continueInCopy(
        _ file: TailedFile, among siblings: @autoclosure () -> [(path: String, age: RotatedSiblings.Age)],
        now: ContinuousClock.Instant, where accepts: (String, FileStatus) -> Bool
    ) -> String? {
        guard let fingerprint = file.fingerprint else { return nil }
        for sibling in siblings().reversed() {
            guard let status = try? FileStatus.of(path: sibling.path), accepts(sibling.path, status),
                FileIdentity.fingerprint(ofPath: sibling.path) == fingerprint,
                let reader = try? openReader(path: sibling.path, offset: file.framer.offset)
            else { continue }
            let oldKey = file.checkpointKey
            file.reader.close()
            file.reader = reader
            file.path = sibling.path
            file.device = status.device
            file.inode = status.inode
            file.size = status.size
            file.age = sibling.age
            readOrderValid = false
            setRole(file, .rotated)
            markDue(file)
            file.reachedEnd = false
            file.lastActivity = now
            if file.writesCheckpoint {
                checkpoint.remove(oldKey)
                checkpoint.update(file.checkpointEntry(now: Self.unixNow()))
            }
            return sibling.path
        }
        return nil
    }
}
