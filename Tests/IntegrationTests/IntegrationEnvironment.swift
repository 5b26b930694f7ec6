import Foundation
import Testing

/// A temporary directory for one integration test: logs, state, output and the config, all
/// removed by ``remove()``.
final class IntegrationEnvironment {
    /// The package root, derived from this file's path.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The built daemon, as a user would run it.
    static var binary: String { packageRoot + "/.build/debug/tailtrack" }

    let root: String
    var logs: String { root + "/logs" }
    var state: String { root + "/state" }
    var output: String { root + "/out.jsonl" }
    var configPath: String { root + "/tailtrack.yml" }
    var positions: String { state + "/positions.json" }

    init(_ name: String) throws {
        root = try TemporaryDirectory.create(prefix: "tailtrack-it-\(name)")
        try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
    }

    /// Writes the config: `output: file`, one rule turning each `seq=N user=U` line into an
    /// event whose `seq` attribute is N, fast polling.
    func writeConfig(
        paths: [String], startAt: String = "beginning", extraTail: String = "", partialLineTimeout: String = "300ms",
        extraSource: String = ""
    ) throws {
        let quoted = paths.map { "\"\($0)\"" }.joined(separator: ", ")
        let yaml = """
            track:
              site_id: integration
              api_key: integration
            state_dir: \(state)
            output: { file: \(output) }
            shutdown_timeout: 20s
            tail:
              poll_interval: 50ms
              partial_line_timeout: \(partialLineTimeout)
            \(extraTail)
            sources:
              - name: app
                paths: [\(quoted)]
                start_at: \(startAt)
                \(extraSource)
            rules:
              - name: numbered
                match: 'seq=(?<seq>\\d+) user=(?<user>\\d+)'
                operation:
                  type: person
                  action: event
                  identifiers: { id: "{{user}}" }
                  name: numbered
                  attributes: { seq: "{{seq | int}}" }

            """
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Removes the directory, unless `TAILTRACK_IT_KEEP` or `TAILTRACK_KEEP_TEMP` is set (to look at a failure).
    func remove() {
        TemporaryDirectory.remove(root)
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// The inode of the file at `path`, or `nil` when there is none.
func inode(of path: String) -> UInt64? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return UInt64(info.st_ino)
}
