import Foundation
import Logging

/// Discovery: the scan that expands the globs, follows new files (from their saved positions
/// at the first scan, or by `start_at`), and adopts rotated siblings it did not see arrive.
extension TailerCore {
    /// Expands the globs, follows new files, and notices rotation, truncation and deletion.
    func scan(now: ContinuousClock.Instant) {
        lastScan = now
        let started = ContinuousClock.now
        defer { lastScanDuration = started.duration(to: .now) }
        scanRequested = false
        ledger.beginScan()
        defer { ledger.endScan() }
        let initial = !firstScanDone
        if initial { saved.load() }
        defer { saved.clear() }
        for source in config.sources {
            let found = PathGlob.expandWithStatus(source.paths, excluding: source.exclude)
            let matched = found.map(\.path)
            let knownLive = liveByPath.keys.filter { $0.source == source.name }.map(\.path)
            // Families seen before (or saved, at start) stay families while their live path is
            // missing (renamed, not yet recreated): their siblings are never live files.
            let savedFamilies = initial ? saved.families(of: source.name) : []
            var bases = Set(matched).union(savedFamilies)
            for known in ledger.knownPaths where known.source == source.name { bases.insert(known.path) }
            var live = Set<String>()
            for (path, status) in found
            where !RotatedSiblings.candidateBases(of: path).contains(where: { $0 != path && bases.contains($0) }) {
                live.insert(path)
                scanLive(source: source, path: path, status: status, initial: initial, now: now)
            }
            // Unreadable paths that are no longer matched (deleted, renamed away) are no longer
            // reported; compressed files read whole and no longer matched are forgotten.
            budget.forgetUnmatched(source: source.name, matched: live)
            ledger.forgetUnmatchedCompressed(source: source.name, matched: live)
            for family in savedFamilies.sorted() where !live.contains(family) {
                // Renamed while the agent was down and not recreated yet: its saved files are
                // among the siblings.
                resumeFamily(source: source, path: family, status: nil, now: now)
            }
            for path in knownLive where !live.contains(path) {
                // The followed path is gone (renamed or deleted, not yet recreated).
                if let key = liveByPath[SourcePath(source: source.name, path: path)], let file = files[key] {
                    detach(file, now: now)
                    adoptUnseenSiblings(source: source.name, family: path, live: nil, now: now)
                }
            }
            ledger.forgetGoneFamilies(
                source: source.name, matched: live, isFollowed: { self.liveByPath[$0] != nil },
                followedFamilies: { Set(self.files.values.lazy.filter { $0.source == source.name }.map(\.family)) })
        }
        for family in ledger.recheckFamilies {
            ledger.recheckFamilies.remove(family)
            let live = liveByPath[family].flatMap { files[$0] }.flatMap { try? $0.reader.status() }
            adoptUnseenSiblings(source: family.source, family: family.path, live: live, now: now)
        }
        for file in nonLiveKeys.compactMap({ files[$0] }) {
            guard let status = try? file.reader.status() else { continue }
            if status.linkCount == 0, file.role == .rotated { setRole(file, .deleted(since: now)) }
            if status.size != file.size {
                file.size = status.size
                file.lastActivity = now
            }
            if !file.reader.isCompressed ? status.size > file.reader.offset : file.gzipTruncated {
                markDue(file)
            }
        }
        budget.scanEnded(followed: files.count)
        firstScanDone = true
    }

    /// One matched path, whose `status` the scan's glob took: followed already (notes growth,
    /// truncation, or another file at the path), resumed from saved positions (first scan), or
    /// new.
    private func scanLive(
        source: SourceSettings, path: String, status: FileStatus, initial: Bool, now: ContinuousClock.Instant
    ) {
        let pathKey = SourcePath(source: source.name, path: path)
        if ledger.compressedPaths[pathKey] != nil, stillCompressed(pathKey, status: status) { return }
        if let key = liveByPath[pathKey], let file = files[key] {
            if file.sameInode(as: status) {
                refreshLive(file, source: source, status: status, now: now)
                return
            }
            // Another file now has the path: the one we read was rotated away.
            detach(file, now: now)
            adoptUnseenSiblings(source: source.name, family: path, live: status, now: now)
            startLive(source: source, path: path, status: status, offset: 0, now: now)
            return
        }
        if initial {
            resumeFamily(source: source, path: path, status: status, now: now)
            return
        }
        // No room to follow it: its rotated siblings are looked at once it can be followed
        // (looking at them now, for each of thousands of such paths, made every scan list
        // the directory once per path).
        guard !budget.refuse(pathKey, status: status, followed: files.count) else { return }
        if budget.stillUnopened(pathKey, status: status) {
            // Still the file that could not be opened at the last scan (permissions): nothing
            // was rotated in between, its siblings were looked at then. Only the open is tried
            // again: looking at them at every scan listed the directory once per such path.
        } else if ledger.knownPaths.contains(pathKey) {
            adoptUnseenSiblings(source: source.name, family: path, live: status, now: now)
        } else {
            // A path never followed: its siblings, if any, are older content, not rotations
            // the agent missed.
            rememberSiblings(source: source.name, family: path)
        }
        if let entry = checkpoint.entry(
            for: CheckpointKey(source: source.name, device: status.device, inode: status.inode)),
            let offset = saved.verifiedOffset(entry, path: path, atFollowedPath: true)
        {
            startLive(source: source, path: path, status: status, offset: offset, now: now)
        } else {
            // Appeared while running (or reappeared after a rotation): all of it is new.
            startLive(source: source, path: path, status: status, offset: 0, now: now)
        }
    }

    /// Follows the file now at a followed path, from `offset` (`nil`: from the last complete
    /// line, for `start_at: end`). A compressed file is read whole instead
    /// (``startCompressed(source:path:status:offset:now:)``).
    func startLive(
        source: SourceSettings, path: String, status: FileStatus, offset: UInt64?, now: ContinuousClock.Instant
    ) {
        let pathKey = SourcePath(source: source.name, path: path)
        guard !budget.refuse(pathKey, status: status, followed: files.count) else { return }
        ledger.noteKnown(pathKey)
        let reader: PlainFileReader
        let openStatus: FileStatus
        do {
            try beforeOpeningLivePath?(path)
            reader = try PlainFileReader(path: path, bufferBytes: config.tail.readBytes)
            openStatus = try reader.status()
        } catch {
            // Renamed away between the scan's look and this open: the file the scan saw here
            // (and so did not count among the unread siblings) must be looked for again.
            if !((try? FileStatus.of(path: path))?.sameInode(as: status) ?? false) {
                ledger.recheckFamilies.insert(pathKey)
            }
            budget.openFailed(pathKey, status: status, error: error)
            return
        }
        budget.opened(pathKey)
        // Another file than the one the scan saw (rotated in between): the one it saw is now a
        // sibling never read, and the end of the scan adopts it.
        if !openStatus.sameInode(as: status) { ledger.recheckFamilies.insert(pathKey) }
        if (try? reader.beginsWithGzipMagic()) == true {
            reader.close()
            startCompressed(source: source, path: path, status: openStatus, offset: offset, now: now)
            return
        }
        let start = offset ?? (try? reader.lastLineBoundary(before: openStatus.size)) ?? 0
        let file = add(
            source: source.name, family: path, age: .live, path: path, status: openStatus,
            fingerprint: try? reader.fingerprint(), reader: reader, offset: start, role: .live, now: now)
        liveByPath[pathKey] = file.key
    }

    /// First scan of a path: resume its own and its rotated siblings' saved positions (they
    /// may have been renamed or compressed while the agent was down), or apply `start_at`.
    /// `status` is `nil` when nothing is at the path (renamed while the agent was down, not
    /// recreated yet): the saved files are resumed among the siblings, and the file that
    /// appears at the path later is new.
    private func resumeFamily(source: SourceSettings, path: String, status: FileStatus?, now: ContinuousClock.Instant) {
        let familySiblings = ledger.siblings(of: path, source: source.name)
        let found = saved.resolve(source: source.name, family: path, status: status, siblings: familySiblings)
        for item in found.rotated.sorted(by: { $0.age < $1.age }) {
            guard let reader = try? openReader(path: item.path, offset: item.entry.offset),
                let fileStatus = try? reader.status()
            else { continue }
            if item.entry.key != CheckpointKey(source: source.name, device: fileStatus.device, inode: fileStatus.inode)
            {
                checkpoint.remove(item.entry.key)
            }
            add(
                source: source.name, family: path, age: item.age, path: item.path, status: fileStatus,
                fingerprint: item.entry.fingerprint, reader: reader, offset: item.entry.offset, role: .rotated, now: now
            )
        }
        ledger.noteKnown(SourcePath(source: source.name, path: path))
        // Siblings that no saved entry describes and that are newer than the newest saved
        // file, or were written after the last save, were rotated in while the agent was down
        // (or before it saw them): read them whole, before the live file.
        if found.hadEntries {
            let followed = followedFiles(source: source.name, family: path)
            for look in ledger.unfollowedSiblings(source: source.name, family: path, live: status, followed: followed)
            where !found.claimed.contains(look.path) && found.isNew(age: look.age, status: look.status) {
                // A .gz with the fingerprint of a followed file is its compressed copy, not a new file.
                if look.compressed, let fingerprint = look.fingerprint,
                    followed.contains(where: { $0.fingerprint == fingerprint })
                {
                    continue
                }
                followFromStart(look, source: source.name, family: path, now: now)
            }
        }
        if let status {
            if let liveOffset = found.liveOffset {
                startLive(source: source, path: path, status: status, offset: liveOffset, now: now)
            } else if found.hadEntries {
                startLive(source: source, path: path, status: status, offset: 0, now: now)
            } else if source.startAt == .beginning {
                if source.backfillRotated {
                    for sibling in familySiblings {
                        guard let reader = try? openReader(path: sibling.path, offset: 0),
                            let fileStatus = try? reader.status()
                        else { continue }
                        add(
                            source: source.name, family: path, age: sibling.age, path: sibling.path,
                            status: fileStatus, fingerprint: FileIdentity.fingerprint(ofPath: sibling.path),
                            reader: reader, offset: 0, role: .rotated, now: now)
                    }
                }
                startLive(source: source, path: path, status: status, offset: 0, now: now)
            } else {
                startLive(source: source, path: path, status: status, offset: nil, now: now)
            }
        }
        // Every other sibling is older content the agent leaves alone (`start_at`, or read
        // before): remembered, so that finding it later is not mistaken for a new rotation.
        rememberSiblings(source: source.name, family: path)
    }

    // MARK: Siblings

    /// The followed files of `family`.
    func followedFiles(source: String, family: String) -> [TailedFile] {
        files.values.filter { $0.source == source && $0.family == family }
    }

    /// Remembers every sibling of `family` not followed now: older content left unread.
    private func rememberSiblings(source: String, family: String) {
        let live = liveByPath[SourcePath(source: source, path: family)].flatMap { files[$0] }
            .flatMap { try? $0.reader.status() }
        ledger.rememberUnfollowedSiblings(
            source: source, family: family, live: live, followed: followedFiles(source: source, family: family))
    }

    /// Rotations the agent did not see happen (several between two looks, a rotation while
    /// reading was paused, the live path briefly unreadable): every sibling that is neither
    /// followed nor seen before is a file that lived at the path in between. Reads them from
    /// the start, oldest first.
    func adoptUnseenSiblings(source: String, family: String, live: FileStatus?, now: ContinuousClock.Instant) {
        let followed = followedFiles(source: source, family: family)
        for look in ledger.unseenSiblings(source: source, family: family, live: live, followed: followed) {
            followFromStart(look, source: source, family: family, now: now)
        }
    }

    /// Follows a rotated sibling never read, from its first byte.
    private func followFromStart(
        _ look: SiblingLedger.SiblingLook, source: String, family: String, now: ContinuousClock.Instant
    ) {
        guard let reader = try? openReader(path: look.path, offset: 0), let openStatus = try? reader.status() else {
            // Renamed again since the look (`.1` to `.2`, or compressed): look for it once more
            // at the end of the scan, under its new name.
            if !((try? FileStatus.of(path: look.path))?.sameInode(as: look.status) ?? false) {
                ledger.recheckFamilies.insert(SourcePath(source: source, path: family))
            }
            return
        }
        guard openStatus.sameInode(as: look.status) else {
            // Another file took the name since the look: both are looked at again.
            reader.close()
            ledger.recheckFamilies.insert(SourcePath(source: source, path: family))
            return
        }
        logger.info(
            "Found a rotated file never read; reading it from the start", metadata: ["file.path": "\(look.path)"])
        add(
            source: source, family: family, age: look.age, path: look.path, status: openStatus,
            fingerprint: look.fingerprint, reader: reader, offset: 0, role: .rotated, now: now)
    }
}
