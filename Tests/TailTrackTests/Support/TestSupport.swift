import Foundation
import Testing

// The test target's one temporary-directory helper. The one seeded generator, `SplitMix64`,
// lives in the `TrackTestServer` module (its random faults need it, and every test target
// imports that module).

/// A fresh directory under the system's temporary directory, removed when the value is
/// released: the scratch space of a test (log files, a state directory, configs, dead letters).
///
/// One helper for every test, so that each test reads its files the same way. Set
/// `TAILTRACK_KEEP_TEMP` to keep the directories of a run (to read a failed run's files).
final class TemporaryDirectory: Sendable {
    /// The directory's absolute path.
    let path: String

    /// Makes a new directory named `prefix-` and a unique suffix.
    init(prefix: String = "tailtrack-test") throws {
        path = NSTemporaryDirectory() + prefix + "-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        if ProcessInfo.processInfo.environment["TAILTRACK_KEEP_TEMP"] == nil {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// The absolute path of `name` (a relative path) inside the directory.
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` in place (an existing file keeps its inode: a truncation, as
    /// copytruncate does), creating missing parent directories. Returns the file's path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let full = file(name)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        return full
    }

    /// Appends `text` to the existing file `name`, in one write.
    func append(_ name: String, _ text: String) throws {
        guard let handle = FileHandle(forWritingAtPath: file(name)) else {
            throw CocoaError(.fileNoSuchFile)
        }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
    }

    /// The text of `name`, empty when it cannot be read.
    func read(_ name: String) -> String {
        guard let data = FileManager.default.contents(atPath: file(name)) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The non-empty lines of `name`, empty when it cannot be read.
    func lines(_ name: String) -> [String] {
        read(name).split(separator: "\n").map(String.init)
    }

    func rename(_ from: String, _ to: String) throws {
        try FileManager.default.moveItem(atPath: file(from), toPath: file(to))
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(atPath: file(name))
    }

    /// Runs `/bin/gzip` (or another tool) in the directory and expects it to succeed.
    func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: path)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(tool) \(arguments.joined(separator: " "))")
    }
}
