import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sends dead-lettered operations to the API again (Track's, through a ``TrackClient``; after
/// the cause was fixed: a rule, an attribute limit, the workspace's settings) and rewrites each
/// dead-letter file with what still fails. Used by `tailtrack dead-letters replay --config FILE`.
///
/// Run it while the agent is stopped: the agent appends to the same file.
public struct DeadLetterReplay: Sendable {
    /// What a replay did.
    public struct Summary: Sendable, Equatable {
        /// Operations read from the files (with an operation to send).
        public var read = 0
        /// Operations the API accepted; removed from the files.
        public var accepted = 0
        /// Operations still in the files: rejected again, not sent, or without an operation.
        public var remaining = 0
        /// The failure that stopped the replay early (API unreachable, credentials wrong).
        public var stoppedBy: DeliveryError?

        public init() {}
    }

    public let stateDirectory: String
    public let deadLetter: DeadLetterSettings
    public let batch: BatchSettings
    public let client: any BatchAPI

    public init(stateDirectory: String, deadLetter: DeadLetterSettings, batch: BatchSettings, client: any BatchAPI) {
        self.stateDirectory = stateDirectory
        self.deadLetter = deadLetter
        self.batch = batch
        self.client = client
    }

    /// The dead-letter files that exist, oldest first.
    public func files() -> [String] {
        let writer = DeadLetterWriter(stateDirectory: stateDirectory, settings: deadLetter)
        let rotated = stride(from: max(0, deadLetter.keep), through: 1, by: -1).map(writer.rotatedPath)
        return (rotated + [writer.path]).filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Replays every file, oldest first. Stops sending at the first failure that is not about
    /// particular operations (those stay in their files).
    public func run() async throws(DeliveryError) -> Summary {
        var summary = Summary()
        for path in files() {
            try await replay(path: path, summary: &summary)
        }
        return summary
    }

    private enum Entry {
        case letter(DeadLetter)
        case unreadable([UInt8])
    }

    private func replay(path: String, summary: inout Summary) async throws(DeliveryError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DeliveryError(code: .deadLetterFile, message: "cannot read \(path)")
        }
        var entries: [Entry] = []
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            let bytes = Array(line)
            entries.append(DeadLetter(jsonLine: bytes).map(Entry.letter) ?? .unreadable(bytes))
        }
        var keep: [Int: Entry] = [:]
        var sendable: [(index: Int, letter: DeadLetter)] = []
        for (index, entry) in entries.enumerated() {
            if case .letter(let letter) = entry, !letter.operation.isEmpty, letter.operation.first == UInt8(ascii: "{")
            {
                sendable.append((index, letter))
            } else {
                keep[index] = entry
            }
        }
        summary.read += sendable.count
        var start = 0
        while start < sendable.count {
            var end = start
            var bytes = 0
            while end < sendable.count {
                let size = client.limits.bodySize(
                    operationBytes: bytes + sendable[end].letter.operation.count, count: end - start + 1)
                if end > start, size > batch.maxBytes { break }
                bytes += sendable[end].letter.operation.count
                end += 1
            }
            if summary.stoppedBy == nil {
                let results = await send(sendable[start..<end].map { $0.letter }, summary: &summary)
                for (offset, result) in results.enumerated() {
                    if let reason = result {
                        var letter = sendable[start + offset].letter
                        letter.reason = reason
                        keep[sendable[start + offset].index] = .letter(letter)
                    } else {
                        summary.accepted += 1
                    }
                }
            } else {
                for item in sendable[start..<end] { keep[item.index] = .letter(item.letter) }
            }
            start = end
        }
        summary.remaining += keep.count
        try rewrite(path: path, entries: keep.keys.sorted().compactMap { keep[$0] })
    }

    /// Sends `letters`; returns per letter `nil` (accepted) or the reason it still fails.
    private func send(_ letters: [DeadLetter], summary: inout Summary) async -> [String?] {
        let body = client.body(joining: letters.map { $0.operation[...] })
        switch await client.deliver(body: body) {
        case .accepted:
            return Array(repeating: nil, count: letters.count)
        case .partiallyRejected(let rejections):
            var results: [String?] = Array(repeating: nil, count: letters.count)
            for rejection in rejections where results.indices.contains(rejection.index) {
                results[rejection.index] = rejection.reason
            }
            return results
        case .rejected(let error):
            if letters.count == 1 { return ["\(client.name) rejected it: \(error.description)"] }
            let middle = letters.count / 2
            let first = await send(Array(letters[..<middle]), summary: &summary)
            let second = await send(Array(letters[middle...]), summary: &summary)
            return first + second
        case .refused(let error), .retryable(let error, _):
            summary.stoppedBy = error
            return letters.map(\.reason)
        }
    }

    /// Replaces the file with `entries` (atomically: temporary file, fsync, rename), or
    /// removes it when nothing is left.
    private func rewrite(path: String, entries: [Entry]) throws(DeliveryError) {
        guard !entries.isEmpty else {
            if unlink(path) != 0, errno != ENOENT { throw DeadLetterWriter.error("remove", path) }
            return
        }
        var bytes: [UInt8] = []
        for entry in entries {
            switch entry {
            case .letter(let letter): bytes += letter.jsonLine()
            case .unreadable(let line): bytes += line
            }
            bytes.append(UInt8(ascii: "\n"))
        }
        let temporary = path + ".replay"
        _ = unlink(temporary)
        try DeadLetterWriter.append(bytes, to: temporary)
        guard rename(temporary, path) == 0 else { throw DeadLetterWriter.error("replace", path) }
    }
}
