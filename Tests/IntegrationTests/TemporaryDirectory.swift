import Foundation

/// A fresh directory under the system's temporary directory, removed when the value is
/// released: the integration tests' one temporary-directory helper (the unit tests' target has
/// its own, as targets cannot share test code). Workspaces with a layout of their own
/// (``TrackWorkspace``, ``IntegrationEnvironment``) make and remove their root through
/// ``create(prefix:)`` and ``remove(_:)``.
///
/// Names stay short (8 characters of a UUID): the daemon's sockets live in these directories,
/// and a socket path has at most 107 bytes. Set `TAILTRACK_KEEP_TEMP` (or `TAILTRACK_IT_KEEP`)
/// to keep the directories of a run, to read a failed run's files.
final class TemporaryDirectory: Sendable {
    /// The directory's absolute path.
    let path: String

    /// Makes a new directory named `prefix-` and a unique suffix.
    init(prefix: String = "tailtrack-it") throws {
        path = try Self.create(prefix: prefix)
    }

    deinit {
        Self.remove(path)
    }

    /// Makes a new directory named `prefix-` and a unique suffix, and returns its path; the
    /// caller removes it with ``remove(_:)``.
    static func create(prefix: String) throws -> String {
        let path = NSTemporaryDirectory() + prefix + "-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Removes the directory at `path`, unless the environment asks to keep it.
    static func remove(_ path: String) {
        let environment = ProcessInfo.processInfo.environment
        guard environment["TAILTRACK_KEEP_TEMP"] == nil, environment["TAILTRACK_IT_KEEP"] == nil else { return }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The absolute path of `name` (a relative path) inside the directory.
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name`, creating missing parent directories.
    func write(_ name: String, _ text: String) throws {
        let full = file(name)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }

    /// Appends `text` to the existing file `name`, in one write.
    func append(_ name: String, _ text: String) throws {
        guard let handle = FileHandle(forWritingAtPath: file(name)) else { throw CocoaError(.fileNoSuchFile) }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
    }

    /// The text of `name`, empty when it cannot be read.
    func read(_ name: String) -> String {
        (try? String(contentsOfFile: file(name), encoding: .utf8)) ?? ""
    }
}
