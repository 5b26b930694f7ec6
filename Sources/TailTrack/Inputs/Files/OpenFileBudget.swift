import Logging

/// The matched paths the tailer does not follow, and why: past the open-file budget (most
/// files followed at once, so that descriptors stay free for positions, sockets and inotify:
/// ``OpenFileLimit``), or failing to open (permissions, a file briefly mode 000). `status`
/// and the `tailtrack_unreadable_files` metric show them; every scan tries them again.
///
/// Logs each condition once, not once per path or per scan. Only touched under the tailer's
/// lock.
final class OpenFileBudget {
    // MARK: State

    /// Most files followed at once. Settable for tests.
    var limit: Int
    /// Matched paths not followed (over the limit, or failing to open): what was found there
    /// and why.
    private(set) var unreadable: [SourcePath: (status: FileStatus, error: String)] = [:]
    /// Of those, the paths left unfollowed by ``limit``.
    private var overLimit = Set<SourcePath>()
    /// True once the over-limit warning was logged, until every matched file is followed again.
    private var limitWarned = false
    /// Why a path past ``limit`` is not followed: the same text for every such path, made once
    /// rather than at each of thousands of refusals a scan makes.
    private var overLimitReason: String?
    private let logger: Logger

    init(limit: Int = OpenFileLimit.followedFileBudget(limit: OpenFileLimit.current), logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    /// True, having noted the path as unreadable, when `followed` files (``limit`` or more)
    /// are followed already. Warns once until every matched file is followed again: one line
    /// for the condition, not one per file.
    func refuse(_ path: SourcePath, status: FileStatus, followed: Int) -> Bool {
        guard followed >= limit else { return false }
        overLimit.insert(path)
        let reason =
            overLimitReason
            ?? "not followed: \(limit) files are followed already, as many as the open-file limit "
            + "(RLIMIT_NOFILE \(OpenFileLimit.current == Int.max ? "unlimited" : "\(OpenFileLimit.current)")) leaves room for"
        overLimitReason = reason
        unreadable[path] = (status, reason)
        if !limitWarned {
            limitWarned = true
            logger.warning(
                """
                More files match than the open-file limit lets the agent follow; the rest are not read until \
                followed files are released or the limit is raised (LimitNOFILE= in the service unit)
                """,
                metadata: [
                    "files.followed": "\(followed)", "files.limit": "\(limit)", "file.path": "\(path.path)",
                ])
        }
        return true
    }

    /// Notes that the file `status` at `path` cannot be opened. Logged once; shown by `status`
    /// and the tailtrack_unreadable_files metric until it opens (each scan retries).
    func openFailed(_ path: SourcePath, status: FileStatus, error: any Error) {
        if unreadable.updateValue((status, "\(error)"), forKey: path) == nil {
            logger.warning(
                "Cannot open a matched file; retrying at every scan",
                metadata: ["file.path": "\(path.path)", "error": "\(error)"])
        }
    }

    /// Notes that `path` is followed now.
    func opened(_ path: SourcePath) {
        if unreadable.removeValue(forKey: path) != nil, overLimit.remove(path) == nil {
            logger.info(
                "A matched file that could not be opened is now followed", metadata: ["file.path": "\(path.path)"])
        }
    }

    /// True when `status` is still the file that could not be opened at `path` at the last scan.
    func stillUnopened(_ path: SourcePath, status: FileStatus) -> Bool {
        unreadable[path]?.status.sameInode(as: status) ?? false
    }

    /// True when some source's `path` is matched and cannot be opened.
    func isUnreadable(_ path: SourcePath) -> Bool { unreadable[path] != nil }

    /// Stops reporting the paths of `source` that are no longer matched (deleted, renamed away).
    func forgetUnmatched(source: String, matched live: Set<String>) {
        for key in unreadable.keys where key.source == source && !live.contains(key.path) {
            unreadable.removeValue(forKey: key)
            overLimit.remove(key)
        }
    }

    /// At the end of a scan: logs once that every matched file is followed again.
    func scanEnded(followed: Int) {
        guard limitWarned && overLimit.isEmpty else { return }
        limitWarned = false
        logger.info("Every matched file is followed again", metadata: ["files.followed": "\(followed)"])
    }

    /// The unreadable paths as `status` shows them, by source and path.
    func statuses() -> [TailedFileStatus] {
        unreadable.sorted { ($0.key.source, $0.key.path) < ($1.key.source, $1.key.path) }.map { key, value in
            TailedFileStatus(
                source: key.source, path: key.path,
                identity: FileIdentity(device: value.status.device, inode: value.status.inode, fingerprint: nil),
                committedOffset: 0, size: value.status.size, bytesBehind: nil, state: TailedFileStatus.unreadable)
        }
    }
}
