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
public final class CheckpointStore: Sendable {
    /// `positions.json`'s path.
    public let path: String
    /// The state directory.
    public let directory: String
    private let logger: Logger
    private let minimumSaveInterval: Duration
    private let state: Mutex<State>
    /// Serialises saves, so that two never race on the temporary file; holds the content
    /// buffer, reused from save to save (a 2 MB state saved every second would otherwise
    /// fault in fresh pages each time).
    private let saving = Mutex<[UInt8]>([])

    private struct State {
        /// Each entry with its line as last encoded: a save with thousands of files, of which a
        /// few moved, encodes only those few.
        var stored: [CheckpointKey: Stored] = [:]
        var dirty = false
        var lastSave: ContinuousClock.Instant?

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
        mutating func content(into body: inout [UInt8]) {
            body.removeAll(keepingCapacity: true)
            body.reserveCapacity(64 + stored.count * 200)
            body.append(contentsOf: CheckpointStore.header)
            var remaining = stored.count
            // Walked by index, not `indices` (which holds a second reference to the storage and
            // makes the first write copy the whole dictionary).
            var index = stored.values.startIndex
            while index != stored.values.endIndex {
                if stored.values[index].line == nil {
                    stored.values[index].line = CheckpointStore.encodeLine(stored.values[index].entry)
                }
                if let line = stored.values[index].line { body.append(contentsOf: line) }
                remaining -= 1
                body.append(contentsOf: remaining == 0 ? CheckpointStore.lastSeparator : CheckpointStore.separator)
                stored.values.formIndex(after: &index)
            }
            CheckpointStore.seal(&body)
        }
    }

    /// Opens the store in `stateDirectory` (created if missing) and loads it.
    ///
    /// - Throws: ``CheckpointError`` when the directory cannot be created or the file
    ///   cannot be read at all (permissions); a corrupt file is not an error.
    public init(stateDirectory: String, logger: Logger, minimumSaveInterval: Duration = .seconds(1)) throws {
        self.directory = stateDirectory
        self.path = stateDirectory + "/positions.json"
        self.logger = logger
        self.minimumSaveInterval = minimumSaveInterval
        if mkdir(stateDirectory, 0o750) != 0 && errno != EEXIST {
            throw CheckpointError(
                path: stateDirectory, operation: "create the state directory", cause: Self.errnoText())
        }
        var loaded: [CheckpointKey: CheckpointEntry] = [:]
        for entry in try Self.load(path: path, logger: logger) {
            loaded[entry.key] = entry
        }
        self.state = Mutex(State(entries: loaded))
    }

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
        state.withLock {
            if $0.stored[entry.key]?.entry != entry {
                $0.stored[entry.key] = State.Stored(entry: entry)
                $0.dirty = true
            }
        }
    }

    /// Removes an entry.
    public func remove(_ key: CheckpointKey) {
        state.withLock {
            if $0.stored.removeValue(forKey: key) != nil { $0.dirty = true }
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
        state.withLock { state in
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
            if removed > 0 { state.dirty = true }
            return removed
        }
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
        try save()
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
        try saving.withLock { buffer in
            state.withLock { state in
                state.dirty = false
                state.lastSave = .now
                state.content(into: &buffer)
            }
            do {
                try write(buffer)
            } catch {
                state.withLock { $0.dirty = true }
                throw error
            }
        }
    }

    private func write(_ content: [UInt8]) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw CheckpointError(path: temporary, operation: "create", cause: Self.errnoText()) }
        var written = 0
        while written < content.count {
            let result = content.withUnsafeBytes { bytes in
                let rest = UnsafeRawBufferPointer(rebasing: bytes[written...])
                return Glibc.write(fd, rest.baseAddress, rest.count)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let cause = Self.errnoText()
                _ = Glibc.close(fd)
                throw CheckpointError(path: temporary, operation: "write", cause: cause)
            }
            written += result
        }
        if fsync(fd) != 0 {
            let cause = Self.errnoText()
            _ = Glibc.close(fd)
            throw CheckpointError(path: temporary, operation: "fsync", cause: cause)
        }
        _ = Glibc.close(fd)
        guard rename(temporary, path) == 0 else {
            throw CheckpointError(path: path, operation: "replace", cause: Self.errnoText())
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            _ = Glibc.close(directoryFD)
        }
    }

    // MARK: Format

    private static let trailerMarker = Array("],\"checksum\":\"".utf8)

    static let header = Array("{\"version\":1,\"entries\":[\n".utf8)
    static let separator = Array(",\n".utf8)
    static let lastSeparator = Array("\n".utf8)

    /// One entry's JSON object, without the separator after it.
    static func encodeLine(_ entry: CheckpointEntry) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 200)
        writer.append("{\"source\":")
        writer.writeString(entry.source)
        writer.append(",\"path\":")
        writer.writeString(entry.path)
        writer.append(",\"device\":")
        writer.append(raw: Array(String(entry.device).utf8))
        writer.append(",\"inode\":")
        writer.append(raw: Array(String(entry.inode).utf8))
        if let fingerprint = entry.fingerprint {
            writer.append(",\"fingerprint\":")
            writer.writeString(fingerprint.description)
            writer.append(",\"fingerprint_length\":")
            writer.writeInteger(Int64(fingerprint.length))
        }
        writer.append(",\"offset\":")
        writer.append(raw: Array(String(entry.offset).utf8))
        if let tailHash = entry.tailHash {
            writer.append(",\"tail_hash\":")
            writer.writeString(hex(tailHash))
        }
        writer.append(",\"size\":")
        writer.append(raw: Array(String(entry.size).utf8))
        writer.append(",\"updated\":")
        writer.writeInteger(entry.updated)
        writer.append("}")
        return writer.bytes
    }

    /// Appends the checksum trailer over `body` to it.
    static func seal(_ body: inout [UInt8]) {
        let checksum = body.withUnsafeBytes { StableHasher.hash64(bytes: $0) }
        body.append(contentsOf: trailerMarker)
        body.append(contentsOf: Array(hex(checksum).utf8))
        body.append(contentsOf: Array("\"}\n".utf8))
    }

    /// Why `content` is not a valid positions file, or its entries.
    static func decode(_ content: [UInt8]) -> Result<[CheckpointEntry], DecodeFailure> {
        guard !content.isEmpty else { return .failure(DecodeFailure(reason: "the file is empty")) }
        guard let markerStart = lastRange(of: trailerMarker, in: content) else {
            return .failure(DecodeFailure(reason: "the checksum trailer is missing (torn or foreign file)"))
        }
        let body = content[..<markerStart]
        let expected = body.withUnsafeBytes { StableHasher.hash64(bytes: $0) }
        let hexStart = markerStart + trailerMarker.count
        let hexEnd = hexStart + 16
        guard hexEnd <= content.count,
            String(decoding: content[hexStart..<hexEnd], as: UTF8.self) == hex(expected)
        else {
            return .failure(DecodeFailure(reason: "the checksum does not match the content"))
        }
        do {
            let stored = try JSONDecoder().decode(StoredFile.self, from: Data(content))
            return .success(try stored.entries.map { try $0.entry() })
        } catch {
            return .failure(DecodeFailure(reason: "the content is not valid: \(error)"))
        }
    }

    struct DecodeFailure: Error {
        var reason: String
    }

    private struct StoredFile: Decodable {
        var version: Int
        var entries: [StoredEntry]
    }

    private struct StoredEntry: Decodable {
        var source: String
        var path: String
        var device: UInt64
        var inode: UInt64
        var fingerprint: String?
        var fingerprintLength: Int?
        var offset: UInt64
        var tailHash: String?
        var size: UInt64
        var updated: Int64

        enum CodingKeys: String, CodingKey {
            case source, path, device, inode, fingerprint, offset, size, updated
            case fingerprintLength = "fingerprint_length"
            case tailHash = "tail_hash"
        }

        func entry() throws -> CheckpointEntry {
            var print: FileFingerprint?
            if let fingerprint, let length = fingerprintLength {
                guard let value = UInt64(fingerprint, radix: 16) else { throw DecodeFailure(reason: "bad fingerprint") }
                print = FileFingerprint(value: value, length: length)
            }
            var hash: UInt64?
            if let tailHash {
                guard let value = UInt64(tailHash, radix: 16) else { throw DecodeFailure(reason: "bad tail_hash") }
                hash = value
            }
            return CheckpointEntry(
                source: source, path: path, device: device, inode: inode, fingerprint: print,
                offset: offset, tailHash: hash, size: size, updated: updated)
        }
    }

    /// Reads and checks `path`; a missing file is an empty state, a corrupt one is set aside.
    static func load(path: String, logger: Logger) throws -> [CheckpointEntry] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return [] }
            throw CheckpointError(path: path, operation: "open", cause: errnoText())
        }
        defer { _ = Glibc.close(fd) }
        var content: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw CheckpointError(path: path, operation: "read", cause: errnoText())
            }
            if got == 0 { break }
            content.append(contentsOf: block[0..<got])
        }
        switch decode(content) {
        case .success(let entries):
            return entries
        case .failure(let failure):
            let aside = path + ".corrupt-\(Int64(Date().timeIntervalSince1970))"
            let moved = rename(path, aside) == 0
            logger.error(
                "Positions file is corrupt; starting from an empty state",
                metadata: [
                    "file.path": "\(path)",
                    "checkpoint.cause": "\(failure.reason)",
                    "checkpoint.moved_to": "\(moved ? aside : "(could not rename: \(errnoText()))")",
                ])
            return []
        }
    }

    private static func lastRange(of marker: [UInt8], in content: [UInt8]) -> Int? {
        guard content.count >= marker.count else { return nil }
        var index = content.count - marker.count
        while index >= 0 {
            if content[index] == marker[0], content[index..<index + marker.count].elementsEqual(marker) {
                return index
            }
            index -= 1
        }
        return nil
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func errnoText() -> String {
        let code = errno
        return String(cString: strerror(code)) + " (errno \(code))"
    }
}
