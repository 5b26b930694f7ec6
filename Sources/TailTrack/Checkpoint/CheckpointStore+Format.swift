import Foundation
import Glibc
import Logging

/// The on-disk format of ``CheckpointStore``: `positions.json` (entries, one a line, sealed by
/// a checksum trailer) and `positions.journal` (changed entries appended between full
/// rewrites, each line with its own checksum) — encoding, decoding and loading.
extension CheckpointStore {
    private static let trailerMarker = Array("],\"checksum\":\"".utf8)

    static func header(generation: UInt64) -> [UInt8] {
        Array("{\"version\":1,\"generation\":\(generation),\"entries\":[\n".utf8)
    }
    static let separator = Array(",\n".utf8)
    static let lastSeparator = Array("\n".utf8)

    /// From this size of the whole state on (about 1,300 files), saves between full rewrites
    /// go to the journal.
    static let journalThreshold = 256 << 10

    /// A journal is folded into a full rewrite at most this long after it was started.
    static let journalLifetime = Duration.seconds(60)

    /// One journal line: the record, a tab, the 16 hex digits of its ``StableHasher`` hash.
    static func appendJournalLine(_ record: [UInt8], to body: inout [UInt8]) {
        body.append(contentsOf: record)
        body.append(0x09)
        body.append(contentsOf: Array(hex(record.withUnsafeBytes { StableHasher.hash64(bytes: $0) }).utf8))
        body.append(0x0A)
    }

    /// The journal record of a removed entry.
    static func encodeRemoval(_ key: CheckpointKey) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 100)
        writer.append("{\"removed\":{\"source\":")
        writer.writeString(key.source)
        writer.append(",\"device\":")
        writer.append(raw: Array(String(key.device).utf8))
        writer.append(",\"inode\":")
        writer.append(raw: Array(String(key.inode).utf8))
        writer.append("}}")
        return writer.bytes
    }

    /// One entry's JSON object, without the separator after it.
    static func encodeLine(_ entry: CheckpointEntry) -> [UInt8] {
        // A line is about 220 bytes with a 30-byte path: room for it without a regrowth.
        var writer = JSONWriter(reservingCapacity: 256)
        encodeLine(entry, into: &writer)
        return writer.bytes
    }

    /// Appends `entry`'s line (without separator) to `writer`.
    static func encodeLine(_ entry: CheckpointEntry, into writer: inout JSONWriter) {
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
        if let cursor = entry.cursor {
            writer.append(",\"cursor\":")
            writer.writeString(cursor)
        }
        writer.append("}")
    }

    /// Appends the checksum trailer over `body` to it.
    static func seal(_ body: inout [UInt8]) {
        let checksum = body.withUnsafeBytes { StableHasher.hash64(bytes: $0) }
        body.append(contentsOf: trailerMarker)
        body.append(contentsOf: Array(hex(checksum).utf8))
        body.append(contentsOf: Array("\"}\n".utf8))
    }

    /// Why `content` is not a valid positions file, or its entries.
    static func decode(_ content: [UInt8]) -> Result<(entries: [CheckpointEntry], generation: UInt64), DecodeFailure> {
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
            return .success((try stored.entries.map { try $0.entry() }, stored.generation ?? 0))
        } catch {
            return .failure(DecodeFailure(reason: "the content is not valid: \(error)"))
        }
    }

    struct DecodeFailure: Error {
        var reason: String
    }

    private struct StoredFile: Decodable {
        var version: Int
        /// Absent in files written before the journal: generation 0.
        var generation: UInt64?
        var entries: [StoredEntry]
    }

    private struct JournalHeader: Decodable {
        var journalOfGeneration: UInt64

        enum CodingKeys: String, CodingKey {
            case journalOfGeneration = "journal_of_generation"
        }
    }

    private struct JournalRemoval: Decodable {
        struct Key: Decodable {
            var source: String
            var device: UInt64
            var inode: UInt64
        }
        var removed: Key
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
        var cursor: String?

        enum CodingKeys: String, CodingKey {
            case source, path, device, inode, fingerprint, offset, size, updated, cursor
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
                offset: offset, tailHash: hash, size: size, updated: updated, cursor: cursor)
        }
    }

    /// Reads and checks `path`; a missing file is an empty state, a corrupt one is set aside.
    static func load(path: String, logger: Logger) throws -> (entries: [CheckpointEntry], generation: UInt64) {
        guard let content = try readWhole(path: path) else { return ([], 0) }
        switch decode(content) {
        case .success(let loaded):
            return loaded
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
            // Whatever journal is there belongs to the file set aside: it goes with it.
            _ = rename(journalPath(besides: path), aside + ".journal")
            return ([], 0)
        }
    }

    /// The journal next to the positions file at `path`.
    static func journalPath(besides path: String) -> String {
        (path as NSString).deletingLastPathComponent + "/positions.journal"
    }

    /// The bytes of the file at `path`; `nil` when there is none.
    private static func readWhole(path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileOperationError.current(path: path, operation: "open")
        }
        defer { _ = Glibc.close(fd) }
        var content: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw FileOperationError.current(path: path, operation: "read")
            }
            if got == 0 { break }
            content.append(contentsOf: block[0..<got])
        }
        return content
    }

    /// Applies the journal at `path` to `entries` when it belongs to `generation`, up to its
    /// first line that fails its checksum (torn by a crash). Returns whether it applied any.
    static func applyJournal(
        path: String, generation: UInt64, to entries: inout [CheckpointKey: CheckpointEntry], logger: Logger
    ) -> Bool {
        guard let content = try? readWhole(path: path), !content.isEmpty else { return false }
        var lines = content.split(separator: 0x0A, omittingEmptySubsequences: false)[...]
        if content.last == 0x0A { lines = lines.dropLast() }
        func record(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
            guard let tab = line.lastIndex(of: 0x09), line.endIndex - tab == 17 else { return nil }
            let record = line[line.startIndex..<tab]
            let expected = record.withUnsafeBytes { StableHasher.hash64(bytes: $0) }
            guard String(decoding: line[(tab + 1)...], as: UTF8.self) == hex(expected) else { return nil }
            return record
        }
        let decoder = JSONDecoder()
        guard let first = lines.first, let headerRecord = record(first),
            let header = try? decoder.decode(JournalHeader.self, from: Data(headerRecord)),
            header.journalOfGeneration == generation
        else {
            // From before the last full rewrite (or unreadable): the positions file has it all.
            return false
        }
        var applied = 0
        for line in lines.dropFirst() {
            guard let body = record(line) else {
                logger.warning(
                    "The positions journal ends in a torn line; the lines after the last whole one are read again",
                    metadata: ["file.path": "\(path)", "checkpoint.journal_records": "\(applied)"])
                break
            }
            let data = Data(body)
            if let removal = try? decoder.decode(JournalRemoval.self, from: data) {
                entries.removeValue(
                    forKey: CheckpointKey(
                        source: removal.removed.source, device: removal.removed.device, inode: removal.removed.inode))
            } else if let stored = try? decoder.decode(StoredEntry.self, from: data), let entry = try? stored.entry() {
                entries[entry.key] = entry
            } else {
                break
            }
            applied += 1
        }
        return applied > 0
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
