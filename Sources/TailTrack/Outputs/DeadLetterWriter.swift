import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Appends ``DeadLetter``s to `state_dir/dead-letter.jsonl`, fsyncs after each write, and
/// rotates the file at `dead_letter.max_bytes`, keeping `dead_letter.keep` older files
/// (`dead-letter.jsonl.1` is the newest of them).
///
/// Not thread-safe: one owner (the batcher or the file sink) writes.
public final class DeadLetterWriter {
    /// The name of the current file inside the state directory.
    public static let fileName = "dead-letter.jsonl"

    public let path: String
    public let settings: DeadLetterSettings

    public init(stateDirectory: String, settings: DeadLetterSettings) {
        self.path = (stateDirectory as NSString).appendingPathComponent(Self.fileName)
        self.settings = settings
    }

    /// The path of rotated file number `index` (1 is the newest).
    public func rotatedPath(_ index: Int) -> String { "\(path).\(index)" }

    /// Writes `letters` (one line each) and fsyncs. Rotates first when the file would grow
    /// past `max_bytes`.
    public func write(_ letters: [DeadLetter]) throws(DeliveryError) {
        guard !letters.isEmpty else { return }
        var bytes: [UInt8] = []
        for letter in letters {
            bytes.append(contentsOf: letter.jsonLine())
            bytes.append(UInt8(ascii: "\n"))
        }
        try createDirectory()
        let currentSize = Self.size(of: path)
        if currentSize > 0, currentSize + bytes.count > settings.maxBytes {
            try rotate()
        }
        try Self.append(bytes, to: path)
    }

    /// Shifts `dead-letter.jsonl.N` to `.N+1` (dropping the oldest beyond `keep`) and the current
    /// file to `.1`.
    func rotate() throws(DeliveryError) {
        let keep = max(0, settings.keep)
        guard keep > 0 else {
            if unlink(path) != 0, errno != ENOENT { throw Self.error("remove", path) }
            return
        }
        if unlink(rotatedPath(keep)) != 0, errno != ENOENT { throw Self.error("remove", rotatedPath(keep)) }
        for index in stride(from: keep - 1, through: 1, by: -1) {
            if rename(rotatedPath(index), rotatedPath(index + 1)) != 0, errno != ENOENT {
                throw Self.error("rotate", rotatedPath(index))
            }
        }
        if rename(path, rotatedPath(1)) != 0, errno != ENOENT { throw Self.error("rotate", path) }
    }

    private func createDirectory() throws(DeliveryError) {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DeliveryError(
                code: .deadLetterFile,
                message:
                    "cannot create the state directory \(directory) for dead letters: \(error.localizedDescription)"
            )
        }
    }

    static func size(of path: String) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int(info.st_size)
    }

    /// Appends `bytes` to the file at `path` (created 0600) and fsyncs it.
    static func append(_ bytes: [UInt8], to path: String) throws(DeliveryError) {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw error("open", path) }
        defer { close(descriptor) }
        try writeAll(bytes, to: descriptor, path: path)
        guard fsync(descriptor) == 0 else { throw error("fsync", path) }
    }

    static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(DeliveryError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                systemWrite(descriptor, buffer.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw error("write", path)
            }
            written += result
        }
    }

    static func error(_ operation: String, _ path: String) -> DeliveryError {
        let reason = String(cString: strerror(errno))
        return DeliveryError(code: .deadLetterFile, message: "cannot \(operation) \(path): \(reason)")
    }
}

/// `write(2)`, named apart from ``DeadLetterWriter/write(_:)``.
func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
        return Glibc.write(descriptor, buffer, count)
    #else
        return Darwin.write(descriptor, buffer, count)
    #endif
}
