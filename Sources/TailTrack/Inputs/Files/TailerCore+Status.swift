/// What the tailer shows of its files: `status`, the once-a-second summary, and counts for
/// tests and metrics.
extension TailerCore {
    /// Every followed file by path, then the unreadable matched paths.
    func status() -> [TailedFileStatus] {
        let ordered = files.values.sorted { ($0.path, $0.key.rawValue) < ($1.path, $1.key.rawValue) }
        let followed = ordered.map { file in
            TailedFileStatus(
                source: file.source, path: file.path, identity: file.identity, committedOffset: file.committed,
                size: file.size,
                bytesBehind: file.reader.isCompressed ? nil : file.size.subtractingClamped(file.committed),
                state: file.statusText)
        }
        return followed + budget.statuses()
    }

    /// Counts, and the statuses of only the files that are behind: what the once-a-second
    /// snapshot needs, without a status (and its strings) for every quiet file.
    func summary() -> TailedFilesSummary {
        var behind: [TailedFileStatus] = []
        for file in behindKeys.keys.compactMap({ files[$0] }) where file.isBehind {
            behind.append(
                TailedFileStatus(
                    source: file.source, path: file.path, identity: file.identity, committedOffset: file.committed,
                    size: file.size, bytesBehind: file.size - file.committed, state: file.statusText))
        }
        return TailedFilesSummary(followed: files.count, unreadable: budget.unreadable.count, behind: behind)
    }

    /// Bytes of lines handed out so far from the files followed now.
    var emittedBytes: UInt64 { files.values.reduce(0) { $0 + $1.emittedEnd } }

    /// Lines skipped as too long, across open files.
    var skippedLines: Int { files.values.reduce(0) { $0 + $1.framer.skippedLines } }

    /// Paths the tailer remembers (followed, or seen before and not forgotten), and families
    /// with remembered siblings: for tests, which check that they do not grow without bound.
    var rememberedPathCount: (known: Int, seenFamilies: Int) { ledger.rememberedPathCount }

    /// How many times the siblings of a path were looked for in a fresh directory listing
    /// (for tests: a scan should list a directory once, not once per path in it).
    var freshSiblingListings: Int { ledger.freshListings }
}
