import Foundation
import Testing

/// Writes lines `seq=000123 user=7 …` with one sequence counter across every file it writes,
/// remembering which numbers it wrote, so a test can compare them with what was delivered.
final class NumberedWriter {
    private(set) var written: [Int] = []
    private var next = 1

    /// Appends `count` numbered lines to `path` (created if missing), opening it for each
    /// call the way an application that reopens its log after rotation does.
    func append(_ count: Int, to path: String, padding: Int = 0) throws {
        var text = ""
        text.reserveCapacity(count * (40 + padding))
        let pad = String(repeating: "x", count: padding)
        for _ in 0..<count {
            text += "seq=\(String(format: "%06d", next)) user=\(next % 97) payload=\(pad)\n"
            written.append(next)
            next += 1
        }
        try appendRaw(Array(text.utf8), to: path)
    }

    /// Appends bytes that are not numbered lines (headers, long lines).
    func appendRaw(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let result = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + done }, bytes.count - done) }
            guard result > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            done += result
        }
    }
}

/// What the daemon wrote to `out.jsonl`: for each sequence number, the operation ids it was
/// delivered with and how many times.
struct DeliveredOutput {
    var ids: [Int: Set<String>] = [:]
    var copies: [Int: Int] = [:]
    var lines = 0

    /// Reads `path`. A line torn by `kill -9` mid-append is followed, on the same line, by
    /// the next complete operation: only the last `{"type":` of a line is read.
    init(path: String) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let bytes = [UInt8](data)
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            if end < bytes.count, let (seq, id) = Self.parse(bytes[start..<end]) {
                ids[seq, default: []].insert(id)
                copies[seq, default: 0] += 1
                lines += 1
            }
            start = end + 1
        }
    }

    private static let typeMarker = Array("{\"type\":".utf8)
    private static let idMarker = Array("\"id\":\"".utf8)
    private static let seqMarker = Array("\"seq\":".utf8)

    private static func parse(_ line: ArraySlice<UInt8>) -> (Int, String)? {
        guard let objectStart = lastIndex(of: typeMarker, in: line) else { return nil }
        let object = line[objectStart...]
        guard let idStart = lastIndex(of: idMarker, in: object).map({ $0 + idMarker.count }),
            idStart + 26 <= object.endIndex,
            let seqStart = lastIndex(of: seqMarker, in: object).map({ $0 + seqMarker.count })
        else { return nil }
        let id = String(decoding: object[idStart..<idStart + 26], as: UTF8.self)
        var seq = 0
        var index = seqStart
        while index < object.endIndex, object[index] >= 0x30, object[index] <= 0x39 {
            seq = seq * 10 + Int(object[index] - 0x30)
            index += 1
        }
        guard index > seqStart else { return nil }
        return (seq, id)
    }

    private static func lastIndex(of marker: [UInt8], in bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count >= marker.count else { return nil }
        var index = bytes.endIndex - marker.count
        while index >= bytes.startIndex {
            if bytes[index] == marker[0] && bytes[index..<index + marker.count].elementsEqual(marker) { return index }
            index -= 1
        }
        return nil
    }

    /// True when every number in `written` was delivered.
    func covers(_ written: [Int]) -> Bool {
        ids.count >= written.count && written.allSatisfy { ids[$0] != nil }
    }

    /// Numbers written but never delivered (the first few).
    func missing(_ written: [Int]) -> [Int] { Array(written.filter { ids[$0] == nil }.prefix(20)) }
    /// Numbers delivered that were never written (the first few).
    func unexpected(_ written: [Int]) -> [Int] {
        let all = Set(written)
        return Array(ids.keys.filter { !all.contains($0) }.sorted().prefix(20))
    }
    /// Numbers delivered more than once with different ids (the first few).
    var conflicting: [Int] { Array(ids.filter { $0.value.count > 1 }.keys.sorted().prefix(20)) }
    /// For a failure's message: how many numbers came with more than one id, and the ids of
    /// the first few. `OperationID.make` with a saved fingerprint and the line's offset gives
    /// back one of them: that tells which file identity each copy was read under.
    var conflictReport: String {
        let conflicts = ids.filter { $0.value.count > 1 }.sorted { $0.key < $1.key }
        let first = conflicts.prefix(5).map { "\($0.key): \($0.value.sorted())" }
        return "\(conflicts.count) numbers; \(first.joined(separator: ", "))"
    }
    /// Numbers delivered more than once (with any ids).
    var duplicated: [Int] { copies.filter { $0.value > 1 }.keys.sorted() }
}
