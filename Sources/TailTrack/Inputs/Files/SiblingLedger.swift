import Foundation

/// A path as one source matches it: the same path in two sources is followed twice.
struct SourcePath: Hashable {
    var source: String
    var path: String
}

/// What the tailer remembers of the files it is not reading, so that it reads each file once:
/// the paths it followed or saw (their rotated siblings are rotations, never live files), the
/// rotated siblings of each family that it read and released or left unread on purpose (meeting
/// one again is not a rotation it missed), and the compressed files matched at their own path
/// that it read whole. It also lists the siblings, each directory once per scan.
///
/// ``TailerCore`` decides what to follow; the ledger tells it which siblings are new. Only
/// touched under the tailer's lock.
final class SiblingLedger {
    /// A rotated sibling once followed or deliberately left unread, remembered while it exists
    /// so that meeting it again among the siblings is not taken for a new rotation.
    struct SeenFile: Hashable, InodeIdentified {
        var device: UInt64
        var inode: UInt64
        var fingerprint: FileFingerprint?
    }

    /// One look at a sibling: where it is and what it begins with.
    struct SiblingLook {
        var path: String
        var age: RotatedSiblings.Age
        var status: FileStatus
        var fingerprint: FileFingerprint?
        var compressed: Bool

        /// True when `seen` describes this file: the same inode with the same first line, or
        /// for a .gz, the same first line (a compressed copy has a new inode).
        func matches(_ seen: SeenFile) -> Bool {
            if seen.sameInode(as: status) {
                return seen.fingerprint == nil || fingerprint == nil || seen.fingerprint == fingerprint
            }
            return compressed && fingerprint != nil && seen.fingerprint == fingerprint
        }
    }

    /// A compressed file matched at its own path (an archive named in `paths:`).
    enum CompressedMatch: Equatable {
        /// Being read, as this followed file.
        case reading(FileKey)
        /// Read to its end and released: the file, with its compressed size then (a member
        /// appended later makes it grow, and it is read on from its saved position).
        case read(FileIdentity, size: UInt64)
    }

    // MARK: State

    /// `rotated_dir` by source name.
    private let rotatedDirectories: [String: String?]
    /// Paths followed, or seen before and not forgotten: families whose siblings are rotations.
    private(set) var knownPaths = Set<SourcePath>()
    /// Per family: the siblings seen and not followed (read and released, or left unread).
    private var seen: [SourcePath: Set<SeenFile>] = [:]
    /// Families whose siblings must be looked at again at the end of the scan (a .gz whose
    /// first line could not be read yet, a file renamed between a look and its open).
    var recheckFamilies = Set<SourcePath>()
    /// The compressed files matched at their own path, being read or read whole.
    var compressedPaths: [SourcePath: CompressedMatch] = [:]
    /// The directory listings of the scan in progress (`nil` outside a scan).
    private var scanListings: SiblingIndex?
    /// How many times the siblings of a path were looked for in a fresh directory listing
    /// (for tests: a scan should list a directory once, not once per path in it).
    private(set) var freshListings = 0

    init(sources: [SourceSettings]) {
        rotatedDirectories = Dictionary(
            sources.map { ($0.name, $0.rotatedDirectory) }, uniquingKeysWith: { first, _ in first })
    }

    /// Paths remembered (followed, or seen before and not forgotten), and families with
    /// remembered siblings: for tests, which check that they do not grow without bound.
    var rememberedPathCount: (known: Int, seenFamilies: Int) { (knownPaths.count, seen.count) }

    // MARK: Listing siblings

    /// From now until ``endScan()``, directories are listed once (outside a scan every look
    /// at the siblings lists afresh).
    func beginScan() { scanListings = SiblingIndex() }

    func endScan() { scanListings = nil }

    /// The rotated siblings of a followed path, oldest first, including those in the source's
    /// `rotated_dir`.
    /// Within a scan, directories are listed once, except that `fresh` lists them again (after
    /// a rotation was seen, so that files rotated in meanwhile are not missed).
    func siblings(of family: String, source: String, fresh: Bool = false) -> [(path: String, age: RotatedSiblings.Age)]
    {
        let directory = rotatedDirectories[source] ?? nil
        if fresh || scanListings == nil { freshListings += 1 }
        guard var index = scanListings else { return RotatedSiblings.list(of: family, rotatedDirectory: directory) }
        // Take the index out while using it, so it is not copied.
        scanListings = nil
        defer { scanListings = index }
        return index.list(of: family, rotatedDirectory: directory, fresh: fresh)
    }

    /// The siblings of `family` that are neither the live file nor one of `followed`, looked
    /// at now.
    func unfollowedSiblings(
        source: String, family: String, live: FileStatus?, followed: [TailedFile], fresh: Bool = false
    ) -> [SiblingLook] {
        let listed = siblings(of: family, source: source, fresh: fresh)
        guard !listed.isEmpty else { return [] }
        return listed.compactMap { sibling in
            guard let status = try? FileStatus.of(path: sibling.path),
                !(live?.sameInode(as: status) ?? false),
                !followed.contains(where: { $0.sameInode(as: status) })
            else { return nil }
            return SiblingLook(
                path: sibling.path, age: sibling.age, status: status,
                fingerprint: FileIdentity.fingerprint(ofPath: sibling.path),
                compressed: FileIdentity.isGzip(path: sibling.path))
        }
    }

    // MARK: Remembering

    /// Notes `path` as followed or seen: its siblings are rotations from now on.
    func noteKnown(_ path: SourcePath) {
        knownPaths.insert(path)
    }

    /// Remembers a file released: among its family's siblings, it is not new.
    func remember(_ file: TailedFile) {
        seen[SourcePath(source: file.source, path: file.family), default: []].insert(
            SeenFile(device: file.device, inode: file.inode, fingerprint: file.fingerprint))
    }

    /// Remembers every sibling of `family` not followed now (older content left unread).
    func rememberUnfollowedSiblings(source: String, family: String, live: FileStatus?, followed: [TailedFile]) {
        let key = SourcePath(source: source, path: family)
        for look in unfollowedSiblings(source: source, family: family, live: live, followed: followed) {
            seen[key, default: []].insert(
                SeenFile(device: look.status.device, inode: look.status.inode, fingerprint: look.fingerprint))
        }
    }

    /// The siblings of `family` that are neither followed nor seen before, looked at in a
    /// fresh listing: files that lived at the path in between two looks (several rotations,
    /// a rotation while reading was paused, the live path briefly unreadable), to be read
    /// from the start. A .gz with the first line of a followed or seen file is its compressed
    /// copy, not a new file; one whose first line cannot be read yet (being written) is looked
    /// at again at the end of the scan. Forgets the seen files no longer there.
    func unseenSiblings(source: String, family: String, live: FileStatus?, followed: [TailedFile]) -> [SiblingLook] {
        let key = SourcePath(source: source, path: family)
        let known = seen[key] ?? []
        let looks = unfollowedSiblings(source: source, family: family, live: live, followed: followed, fresh: true)
        var stillPresent = Set<SeenFile>()
        var unseen: [SiblingLook] = []
        for look in looks {
            let matching = known.filter { look.matches($0) }
            if !matching.isEmpty {
                stillPresent.formUnion(matching)
                continue
            }
            if look.compressed {
                guard let fingerprint = look.fingerprint else {
                    // Being written (or empty): decide when its first line can be read.
                    recheckFamilies.insert(key)
                    continue
                }
                if followed.contains(where: { $0.fingerprint == fingerprint }) { continue }
            }
            unseen.append(look)
        }
        seen[key] = stillPresent.isEmpty ? nil : stillPresent
        return unseen
    }

    /// Forgets the paths seen before whose whole family is gone: not matched now (`live`),
    /// not followed (`isFollowed`), nothing of theirs followed (the last rotated or deleted
    /// file released; `followedFamilies`) and no rotated sibling on disk. Such a path that
    /// comes back is a new file with nothing before it, as if never seen. Without this, a
    /// directory where files come and go (a log per job, per day) grew the agent's memory with
    /// every name it had ever matched.
    func forgetGoneFamilies(
        source: String, matched live: Set<String>, isFollowed: (SourcePath) -> Bool,
        followedFamilies: () -> Set<String>
    ) {
        var gone: [SourcePath] = []
        var families: Set<String>?
        for key in knownPaths where key.source == source && !live.contains(key.path) && !isFollowed(key) {
            let followed = families ?? followedFamilies()
            families = followed
            guard !followed.contains(key.path), !recheckFamilies.contains(key),
                siblings(of: key.path, source: source).isEmpty
            else { continue }
            gone.append(key)
        }
        for key in gone {
            knownPaths.remove(key)
            seen.removeValue(forKey: key)
        }
    }

    /// Forgets the compressed files read whole at paths of `source` no longer matched.
    func forgetUnmatchedCompressed(source: String, matched live: Set<String>) {
        for (key, match) in compressedPaths where key.source == source && !live.contains(key.path) {
            if case .read = match { compressedPaths.removeValue(forKey: key) }
        }
    }

    /// The positions to keep of the compressed files read and released: forgotten, they would
    /// be read again at the next start.
    var readCompressedFiles: [CheckpointKey] {
        compressedPaths.compactMap { key, match in
            guard case .read(let file, _) = match else { return nil }
            return CheckpointKey(source: key.source, device: file.device, inode: file.inode)
        }
    }
}
