// Over 400 lines: the in-memory state and the save path that snapshots it share one lock
// discipline, kept in one file; the on-disk format is in CheckpointStore+Format.swift.
import Foundation
import Glibc
import Logging
import Synchronization

/// The durable file positions: `state_dir/positions.json`.
///
/// A save writes the whole state to a temporary file in the same directory, fsyncs it,
/// renames it over `positions.json` and fsyncs the directory, so that after a crash the file
/// is either the old or the new state, never a mix. The content ends with a checksum of
/// everything before it; a file that fails it (torn, empty, NUL-filled, half written,
/// garbage) is renamed aside to `positions.json.corrupt-<unix time>`, the cause is logged,
/// and the agent starts from an empty state (sources then apply `start_at`).
///
/// Format (one entry a line, so a diff or `grep` shows what happened):
/// ```
/// {"version":1,"entries":[
/// {"source":"app","path":"/var/log/app.log","device":2049,"inode":1234,…},
/// ],"checksum":"00ab…"}
/// ```
/// The checksum is ``StableHasher`` over all bytes before the line that carries it.
///
/// With thousands of files the whole state is megabytes, and rewriting it every second costs
/// more than everything else the agent does for those files. So once the state passes
/// ``journalThreshold``, a save between full rewrites appends only the entries that changed
/// to `positions.journal`, one line each with its own checksum, and fsyncs that; a full
/// rewrite follows within ``journalLifetime`` or once the journal is as large as the state.
/// Each full rewrite carries a new `generation`, and a journal applies only to the
/// generation its first line names, so a journal left over from before a rewrite is ignored.
/// A torn last line (a crash mid-append) ends the journal: that entry keeps its older
/// position, and its lines are read again (with the same ids). Smaller states are rewritten
/// whole at every save, as before, and a clean stop always rewrites the whole file.
public final class CheckpointStore: Sendable {
    /// `positions.json`'s path.
    public let path: String
    /// The state directory.
    public let directory: String
    private let logger: Logger
    private let minimumSaveInterval: Duration
    private let state: Mutex<State>
    /// Serialises saves, so that two never race on the temporary file; holds the content
    /// buffer, reused from save to save (a state saved every second would otherwise fault in
    /// fresh pages each time) unless the state is large enough for the journal.
    private let saving = Mutex<[UInt8]>([])

    private struct State {
        /// Each entry with its line as last encoded: a save with thousands of files, of which a
        /// few moved, encodes only those few.
        var stored: [CheckpointKey: Stored] = [:]
        var dirty = false
        var lastSave: ContinuousClock.Instant?
        /// The generation of `positions.json` on disk; the next full save writes one more.
        var generation: UInt64 = 0
        /// Entries updated and removed since the last save, for the journal.
        var changed = Set<CheckpointKey>()
        var removed = Set<CheckpointKey>()
        /// Size of the last full content, and bytes appended to the journal since.
        var fullBytes = 0
        var journalBytes = 0
        /// When the first journal append after the last full save happened.
        var journalStarted: ContinuousClock.Instant?
        /// Set when the journal may not hold every change (a failed append, or a journal read
        /// at start): the next save rewrites the whole file.
        var needsFullSave = true
        /// Whether a failed journal append was logged already.
        var journalFailureLogged = false
        /// The checkpoint service waiting for something to save (see ``waitForChanges()``).
        var changeWaiter: CheckedContinuation<Void, Never>?

        /// Marks the state changed; returns the waiter to wake, if any.
        mutating func markDirty() -> CheckedContinuation<Void, Never>? {
            dirty = true
            defer { changeWaiter = nil }
            return changeWaiter
        }

        struct Stored {
            var entry: CheckpointEntry
            var line: [UInt8]?
        }

        init(entries: [CheckpointKey: CheckpointEntry] = [:]) {
            stored = entries.mapValues { Stored(entry: $0) }
        }

        /// The file content for every entry, encoding only the entries changed since the last
        /// call. Entries are written in the dictionary's order (stable within a process):
        /// sorting thousands of paths at every save would cost more than the save.
        ///
        /// A state large enough for the journal is rewritten whole at most once a minute, so
        /// keeping every entry's line for that would cost memory per followed file (about 200
        /// bytes each) to save a few milliseconds a minute: its lines are encoded and dropped.
        mutating func content(into body: inout [UInt8]) {
            // At least 128 bytes an entry: a state read at start is judged before its first save.
            let keepLines = max(fullBytes, stored.count * 128) < CheckpointStore.journalThreshold
            body.removeAll(keepingCapacity: true)
            body.reserveCapacity(64 + stored.count * 256)
            body.append(contentsOf: CheckpointStore.header(generation: generation))
            var remaining = stored.count
            // Walked by index, not `indices` (which holds a second reference to the storage and
            // makes the first write copy the whole dictionary).
            var index = stored.values.startIndex
            while index != stored.values.endIndex {
                if let line = stored.values[index].line {
                    body.append(contentsOf: line)
                    if !keepLines { stored.values[index].line = nil }
                } else if keepLines {
                    let line = CheckpointStore.encodeLine(stored.values[index].entry)
                    body.append(contentsOf: line)
                    stored.values[index].line = line
                } else {
                    // Straight into the content: no line of its own, even for a moment.
                    var writer = JSONWriter(reservingCapacity: 0)
                    swap(&writer.bytes, &body)
                    CheckpointStore.encodeLine(stored.values[index].entry, into: &writer)
                    swap(&writer.bytes, &body)
                }
                remaining -= 1
                body.append(contentsOf: remaining == 0 ? CheckpointStore.lastSeparator : CheckpointStore.separator)
                stored.values.formIndex(after: &index)
            }
            if keepLines && body.count >= CheckpointStore.journalThreshold {
                // Grown past the threshold since the last save (the first save, at start).
                index = stored.values.startIndex
                while index != stored.values.endIndex {
                    stored.values[index].line = nil
                    stored.values.formIndex(after: &index)
                }
            }
            CheckpointStore.seal(&body)
        }

        /// The journal lines for what changed since the last save (after a header line when
        /// the journal starts afresh). Lines are not kept: the state is large (see
        /// ``content(into:)``) and an entry that changed once usually changes again before the
        /// next full rewrite.
        mutating func journalRecords(into body: inout [UInt8]) {
            body.removeAll(keepingCapacity: true)
            if journalBytes == 0 {
                CheckpointStore.appendJournalLine(
                    Array("{\"journal_of_generation\":\(generation)}".utf8), to: &body)
            }
            for key in changed {
                guard let item = stored[key] else { continue }
                CheckpointStore.appendJournalLine(item.line ?? CheckpointStore.encodeLine(item.entry), to: &body)
            }
            for key in removed where stored[key] == nil {
                CheckpointStore.appendJournalLine(CheckpointStore.encodeRemoval(key), to: &body)
            }
        }

        /// Forgets the changes just saved. Their sets keep their storage only while small: the
        /// first save after start lists every entry, and keeping room for 10,000 keys for the
        /// few that change a second would be memory per followed file.
        mutating func clearChanges() {
            changed.removeAll(keepingCapacity: changed.count <= 1024)
            removed.removeAll(keepingCapacity: removed.count <= 1024)
        }

        /// Whether the next save may append to the journal instead of rewriting everything.
        func journalWorthwhile(now: ContinuousClock.Instant) -> Bool {
            guard !needsFullSave, fullBytes >= CheckpointStore.journalThreshold else { return false }
            if let journalStarted, journalStarted.duration(to: now) >= CheckpointStore.journalLifetime {
                return false
            }
            // Roughly what the records will take: compact once the journal outgrows the state.
            return journalBytes + (changed.count + removed.count + 1) * 256 < fullBytes
        }
    }

    /// Opens the store in `stateDirectory` (created if missing) and loads it.
    ///
    /// - Throws: ``FileOperationError`` when the directory cannot be created or the file
    ///   cannot be read at all (permissions); a corrupt file is not an error.
    public init(stateDirectory: String, logger: Logger, minimumSaveInterval: Duration = .seconds(1)) throws {
        self.directory = stateDirectory
        self.path = stateDirectory + "/positions.json"
        self.logger = logger
        self.minimumSaveInterval = minimumSaveInterval
        if mkdir(stateDirectory, 0o750) != 0 && errno != EEXIST {
            throw FileOperationError.current(path: stateDirectory, operation: "create the state directory")
        }
        var loaded: [CheckpointKey: CheckpointEntry] = [:]
        let (entries, generation) = try Self.load(path: path, logger: logger)
        for entry in entries {
            loaded[entry.key] = entry
        }
        let journaled = Self.applyJournal(
            path: Self.journalPath(besides: path), generation: generation, to: &loaded, logger: logger)
        var state = State(entries: loaded)
        state.generation = generation
        // A journal read now is folded into a full rewrite at the first save.
        state.dirty = journaled
        self.state = Mutex(state)
    }

    /// `positions.journal`'s path.
    public var journalPath: String { Self.journalPath(besides: path) }

    /// Every entry, in no particular order.
    public var entries: [CheckpointEntry] {
        state.withLock { $0.stored.values.map(\.entry) }
    }

    /// The entry for one file, if any.
    public func entry(for key: CheckpointKey) -> CheckpointEntry? {
        state.withLock { $0.stored[key]?.entry }
    }

    /// Adds or replaces an entry (saved by the next ``save()``).
    public func update(_ entry: CheckpointEntry) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.stored[entry.key]?.entry != entry else { return nil }
            state.stored[entry.key] = State.Stored(entry: entry)
            state.changed.insert(entry.key)
            state.removed.remove(entry.key)
            return state.markDirty()
        }
        waiter?.resume()
    }

    /// Removes an entry.
    public func remove(_ key: CheckpointKey) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.stored.removeValue(forKey: key) != nil else { return nil }
            state.changed.remove(key)
            state.removed.insert(key)
            return state.markDirty()
        }
        waiter?.resume()
    }

    /// Returns once there is something to save (at once when there is already), or when the
    /// task is cancelled: the checkpoint service's idle wait, so that an idle agent does not
    /// wake up to find nothing to save. One waiter at a time.
    public func waitForChanges() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.dirty || Task.isCancelled { return true }
                    state.changeWaiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.changeWaiter = nil }
                return state.changeWaiter
            }
            waiter?.resume()
        }
    }

    /// Removes entries not in `active` that were last updated before `now - maxAge`, then the
    /// oldest inactive ones while more than `maxEntries` remain. Returns how many went.
    @discardableResult
    public func collectGarbage(
        active: Set<CheckpointKey>,
        maxAgeSeconds: Int64 = 86_400,
        maxEntries: Int = 100_000,
        now: Int64 = Int64(Date().timeIntervalSince1970)
    ) -> Int {
        let (removed, waiter) = state.withLock { state -> (Int, CheckedContinuation<Void, Never>?) in
            let before = state.stored.count
            state.stored = state.stored.filter {
                active.contains($0.key) || $0.value.entry.updated >= now - maxAgeSeconds
            }
            if state.stored.count > maxEntries {
                let inactive = state.stored.values.map(\.entry).filter { !active.contains($0.key) }.sorted {
                    $0.updated < $1.updated
                }
                for entry in inactive.prefix(state.stored.count - maxEntries) {
                    state.stored.removeValue(forKey: entry.key)
                }
            }
            let removed = before - state.stored.count
            // Rare (hourly at most): the next save rewrites the file rather than journal each.
            if removed > 0 {
                state.needsFullSave = true
                return (removed, state.markDirty())
            }
            return (removed, nil)
        }
        waiter?.resume()
        return removed
    }

    /// Saves when something changed and the last save is at least the minimum save interval
    /// ago. Returns whether it saved.
    @discardableResult
    public func saveIfDue() throws -> Bool {
        let due = state.withLock { state in
            guard state.dirty else { return false }
            guard let last = state.lastSave else { return true }
            return last.duration(to: .now) >= minimumSaveInterval
        }
        guard due else { return false }
        try saving.withLock { buffer in
            let journal = state.withLock { state in
                guard state.journalWorthwhile(now: .now) else { return false }
                state.journalRecords(into: &buffer)
                state.clearChanges()
                state.dirty = false
                state.lastSave = .now
                return true
            }
            guard journal else {
                try saveWhole(buffer: &buffer)
                return
            }
            do {
                try appendJournal(buffer, fresh: state.withLock { $0.journalBytes == 0 })
                state.withLock { state in
                    if state.journalBytes == 0 { state.journalStarted = .now }
                    state.journalBytes += buffer.count
                }
            } catch {
                // Logged once: a full disk fails the rewrite too, and that is reported (once)
                // by whoever saves.
                let first = state.withLock { state in
                    state.needsFullSave = true
                    defer { state.journalFailureLogged = true }
                    return !state.journalFailureLogged
                }
                if first {
                    logger.warning(
                        "Cannot append to the positions journal; rewriting the positions file instead",
                        metadata: ["file.path": "\(journalPath)", "error": "\(error)"])
                }
                try saveWhole(buffer: &buffer)
            }
        }
        return true
    }

    /// True when something changed since the last save: a save is still to come.
    public var hasUnsavedChanges: Bool {
        state.withLock { $0.dirty }
    }

    /// How often ``saveIfDue()`` saves at most.
    public var saveInterval: Duration { minimumSaveInterval }

    /// Writes the state now, atomically (temporary file, fsync, rename, fsync directory).
    public func save() throws {
        try saving.withLock { buffer in try saveWhole(buffer: &buffer) }
    }

    /// The full rewrite, under the `saving` lock: the next generation, then the journal of the
    /// one before is removed.
    private func saveWhole(buffer: inout [UInt8]) throws {
        state.withLock { state in
            state.dirty = false
            state.lastSave = .now
            state.generation += 1
            state.content(into: &buffer)
            // In the same lock as the content: a change made while the file is written stays
            // listed for the next save.
            state.clearChanges()
        }
        do {
            try write(buffer)
        } catch {
            state.withLock {
                $0.dirty = true
                $0.generation -= 1
                $0.needsFullSave = true
            }
            throw error
        }
        if unlink(journalPath) != 0 && errno != ENOENT {
            // Harmless: it names the generation before, so it is ignored at start.
            logger.debug("Cannot remove the old positions journal", metadata: ["error": "\(Self.errnoText())"])
        }
        state.withLock { state in
            state.fullBytes = buffer.count
            state.journalBytes = 0
            state.journalStarted = nil
            state.needsFullSave = false
        }
        if buffer.count >= Self.journalThreshold {
            // A state this large is rewritten whole at most once a minute (the journal takes
            // the saves between): holding megabytes for that would be memory per followed file.
            buffer = []
            MallocArenas.trim()
        }
    }

    /// Appends `records` to the journal (created afresh when `fresh`) and fsyncs it.
    private func appendJournal(_ records: [UInt8], fresh: Bool) throws {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (fresh ? O_TRUNC : O_APPEND)
        let fd = open(journalPath, flags, 0o640)
        guard fd >= 0 else { throw FileOperationError.current(path: journalPath, operation: "open") }
        defer { _ = Glibc.close(fd) }
        var written = 0
        while written < records.count {
            let result = records.withUnsafeBytes { bytes in
                Glibc.write(fd, bytes.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw FileOperationError.current(path: journalPath, operation: "write")
            }
            written += result
        }
        if fdatasync(fd) != 0 {
            throw FileOperationError.current(path: journalPath, operation: "fsync")
        }
        if fresh {
            let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if directoryFD >= 0 {
                _ = fsync(directoryFD)
                _ = Glibc.close(directoryFD)
            }
        }
    }

    private func write(_ content: [UInt8]) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw FileOperationError.current(path: temporary, operation: "create") }
        var written = 0
        while written < content.count {
            let result = content.withUnsafeBytes { bytes in
                let rest = UnsafeRawBufferPointer(rebasing: bytes[written...])
                return Glibc.write(fd, rest.baseAddress, rest.count)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let code = errno
                _ = Glibc.close(fd)
                throw FileOperationError(path: temporary, operation: "write", errno: code)
            }
            written += result
        }
        if fsync(fd) != 0 {
            let code = errno
            _ = Glibc.close(fd)
            throw FileOperationError(path: temporary, operation: "fsync", errno: code)
        }
        _ = Glibc.close(fd)
        guard rename(temporary, path) == 0 else {
            throw FileOperationError.current(path: path, operation: "replace")
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            _ = Glibc.close(directoryFD)
        }
    }

    // MARK: Format
}
