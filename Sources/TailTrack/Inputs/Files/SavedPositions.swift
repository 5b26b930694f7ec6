import Foundation
import Glibc

/// The positions the last run saved, matched to the files on disk now. At the first scan each
/// saved entry is grouped under the followed path (its family) it belongs to; then, family by
/// family, each is found again — at the followed path, or among the rotated siblings, renamed,
/// copied or compressed while the agent was down — and verified (same first line, at least
/// that long, same bytes before the offset) before it is resumed. Entries found nowhere are
/// removed.
///
/// Answers only: ``TailerCore`` opens and follows the files. Only touched under the tailer's
/// lock.
final class SavedPositions {
    /// Where the saved files of one family are now.
    struct FamilyResolution {
        /// The verified offset in the file at the followed path, when it is a saved file.
        var liveOffset: UInt64?
        /// The saved files found among the siblings, each with its entry.
        var rotated: [(path: String, age: RotatedSiblings.Age, entry: CheckpointEntry)] = []
        /// The siblings those are.
        var claimed = Set<String>()
        /// True when anything was saved for the family.
        var hadEntries = false
        /// The newest saved file's age (`.live` when the live file is one), if any.
        var newest: RotatedSiblings.Age?
        /// When the family's positions were last saved (unix seconds).
        var lastSave: Int64 = 0

        /// True for an unclaimed sibling rotated in while the agent was down (or before it saw
        /// it): newer than the newest saved file, or written after the last save.
        func isNew(age: RotatedSiblings.Age, status: FileStatus) -> Bool {
            newest.map { age > $0 } ?? true || status.modified / 1_000_000_000 >= lastSave - 1
        }
    }

    // MARK: State

    private let checkpoint: CheckpointStore
    /// The sources by name.
    private let sources: [String: SourceSettings]
    /// During the first scan: the saved entries by family (empty otherwise).
    private var byFamily: [SourcePath: [CheckpointEntry]] = [:]

    init(config: TailTrackConfig, checkpoint: CheckpointStore) {
        self.checkpoint = checkpoint
        self.sources = Dictionary(config.sources.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Groups the saved positions by the family they belong to, for the first scan.
    func load() {
        var grouped: [SourcePath: [CheckpointEntry]] = [:]
        for entry in checkpoint.entries {
            guard let source = sources[entry.source], let family = family(ofSaved: entry, source: source) else {
                continue
            }
            grouped[SourcePath(source: entry.source, path: family), default: []].append(entry)
        }
        byFamily = grouped
    }

    /// Forgets the grouping at the end of the first scan.
    func clear() { byFamily = [:] }

    /// The families of `source` with saved positions (during the first scan).
    func families(of source: String) -> Set<String> {
        Set(byFamily.keys.filter { $0.source == source }.map(\.path))
    }

    // MARK: Resolving

    /// Finds where the saved files of `family` are now: the file at the followed path
    /// (`status`, `nil` when nothing is there), else among `siblings`. Removes the entries
    /// found nowhere.
    func resolve(
        source: String, family: String, status: FileStatus?, siblings: [(path: String, age: RotatedSiblings.Age)]
    ) -> FamilyResolution {
        let entries = byFamily[SourcePath(source: source, path: family)] ?? []
        var found = FamilyResolution(hadEntries: !entries.isEmpty)
        for entry in entries.sorted(by: { $0.updated < $1.updated }) {
            if let status, entry.sameInode(as: status) {
                if let offset = verifiedOffset(entry, path: family, atFollowedPath: true) {
                    found.liveOffset = offset
                    continue
                }
                // Truncated while we were down (copytruncate), or the inode was reused by a
                // new file: either way the saved lines, if anywhere, are in a sibling.
            }
            if let sibling = locate(entry, among: siblings, excluding: found.claimed, live: status) {
                found.claimed.insert(sibling.path)
                found.rotated.append((sibling.path, sibling.age, entry))
            } else {
                checkpoint.remove(entry.key)
            }
        }
        found.newest = found.liveOffset == nil ? found.rotated.map(\.age).max() : .live
        found.lastSave = entries.map(\.updated).max() ?? 0
        return found
    }

    /// Finds where an entry's file went: the sibling with its inode, else one with its
    /// fingerprint (a copy, or compressed into a .gz).
    func locate(
        _ entry: CheckpointEntry, among siblings: [(path: String, age: RotatedSiblings.Age)],
        excluding claimed: Set<String>, live: FileStatus?
    ) -> (path: String, age: RotatedSiblings.Age)? {
        guard let fingerprint = entry.fingerprint else { return nil }
        let candidates = siblings.filter { !claimed.contains($0.path) }
        for sibling in candidates {
            guard let status = try? FileStatus.of(path: sibling.path), entry.sameInode(as: status),
                verifiedOffset(entry, path: sibling.path) != nil
            else { continue }
            return sibling
        }
        for sibling in candidates {
            guard let status = try? FileStatus.of(path: sibling.path),
                !(live?.sameInode(as: status) ?? false),
                FileIdentity.fingerprint(ofPath: sibling.path) == fingerprint
            else { continue }
            if FileIdentity.isGzip(path: sibling.path) {
                guard verifiedCompressedOffset(entry, path: sibling.path) else { continue }
            } else {
                var moved = entry
                moved.device = status.device
                moved.inode = status.inode
                guard verifiedOffset(moved, path: sibling.path) != nil else { continue }
            }
            return sibling
        }
        return nil
    }

    /// The entry's offset when the file at `path` is still the file it describes: same
    /// fingerprint, at least that long, same bytes just before the offset. A .gz (by its first
    /// bytes) is checked in its uncompressed bytes; `atFollowedPath`, only its first line here:
    /// the rest is checked as it is opened there, in the same pass that seeks to the offset
    /// (``TailerCore/startCompressed(source:path:status:offset:now:)``), not in a pass of its own.
    func verifiedOffset(_ entry: CheckpointEntry, path: String, atFollowedPath: Bool = false) -> UInt64? {
        guard let reader = try? PlainFileReader(path: path, bufferBytes: 4096) else { return nil }
        defer { reader.close() }
        if (try? reader.beginsWithGzipMagic()) == true {
            guard let fingerprint = entry.fingerprint else { return entry.offset == 0 ? 0 : nil }
            guard FileIdentity.fingerprint(ofPath: path) == fingerprint,
                atFollowedPath || verifiedCompressedOffset(entry, path: path)
            else { return nil }
            return entry.offset
        }
        guard let status = try? reader.status(), status.size >= entry.offset else { return nil }
        guard let fingerprint = entry.fingerprint else { return entry.offset == 0 ? 0 : nil }
        guard (try? reader.fingerprint()) == fingerprint else { return nil }
        if let expected = entry.tailHash {
            guard (try? reader.tailHash(before: entry.offset)) == expected else { return nil }
        }
        return entry.offset
    }

    /// True when the .gz at `path` holds the entry's file: at least `offset` bytes long once
    /// decompressed, with the same bytes just before the offset (its first line was already
    /// matched). A different file that merely begins with the same line (a constant banner)
    /// fails here and is read as a file of its own.
    func verifiedCompressedOffset(_ entry: CheckpointEntry, path: String) -> Bool {
        guard entry.offset > 0 else { return true }
        guard let reader = try? GzipFileReader(path: path, bufferBytes: 65_536) else { return false }
        defer { reader.close() }
        guard let hash = try? reader.seekHashingTail(to: entry.offset) else { return false }
        return entry.tailHash.map { $0 == hash } ?? true
    }

    // MARK: Families

    /// The followed path a saved position belongs to (`app.log` for an entry saved while the
    /// file was `app.log.1`, or `old/app.log.1` with `rotated_dir: old`), for the source's
    /// globs; `nil` when no glob covers it.
    private func family(ofSaved entry: CheckpointEntry, source: SourceSettings) -> String? {
        func followed(_ path: String) -> Bool {
            source.paths.contains { fnmatch($0, path, FNM_PATHNAME) == 0 }
                && !source.exclude.contains { fnmatch($0, path, 0) == 0 }
        }
        if let base = RotatedSiblings.base(of: entry.path) {
            if followed(base) { return base }
            // In rotated_dir: the family is the same name in a followed directory.
            let name = (base as NSString).lastPathComponent
            let directories = source.paths.map(DirectoryWatcher.directory(ofGlob:))
            if let family = directories.map({ $0 + "/" + name }).first(where: {
                followed($0)
                    && rotatedDirectory(of: $0, source: source).map { directory in
                        (base as NSString).deletingLastPathComponent == directory
                    } ?? false
            }) {
                return family
            }
        }
        return followed(entry.path) ? entry.path : nil
    }

    /// The directory of `family`'s rotated siblings in `rotated_dir`, if the source has one.
    private func rotatedDirectory(of family: String, source: SourceSettings) -> String? {
        guard let configured = source.rotatedDirectory, !configured.isEmpty else { return nil }
        if configured.hasPrefix("/") { return (configured as NSString).standardizingPath }
        let directory = (family as NSString).deletingLastPathComponent
        return (((directory.isEmpty ? "." : directory) + "/" + configured) as NSString).standardizingPath
    }
}
