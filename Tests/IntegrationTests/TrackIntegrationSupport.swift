import Foundation
import Glibc
import Synchronization
import TailTrack
import Testing
import TrackTestServer

/// The delivery integration tests (nested suites in `Delivery…Tests.swift`), one at a time:
/// each runs daemons that poll every 50 ms and write hard, and several at once on 2 cores
/// starve the rest of the suite's timing-sensitive tests.
@Suite(.serialized) struct DeliveryIntegrationTests {}

/// Where the package and its built `tailtrack` binary are.
enum TrackIntegrationPaths {
    /// The package root, three levels above this file.
    static let packageRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    /// The debug binary a user would run.
    static let binary = packageRoot + "/.build/debug/tailtrack"
}

/// How a child process ended.
enum AgentExit: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    init(waitStatus: Int32) {
        let signal = waitStatus & 0x7f
        self = signal == 0 ? .exited((waitStatus >> 8) & 0xff) : .signalled(signal)
    }

    var description: String {
        switch self {
        case .exited(let code): return "exit \(code)"
        case .signalled(let signal): return "signal \(signal)"
        }
    }
}

/// One `tailtrack` child process (the daemon or a one-shot command), its output in a file.
///
/// Started with `posix_spawn` so the test owns the pid: `kill -9`, `SIGTERM` and
/// `/proc/PID/status` act on exactly this process. ``stop()`` kills and reaps it; call it in a
/// `defer` so no child outlives a failed test.
final class AgentUnderTest: Sendable {
    let pid: pid_t
    /// stdout and stderr, interleaved.
    let outputPath: String
    private let exit = Mutex<AgentExit?>(nil)

    private init(pid: pid_t, outputPath: String) {
        self.pid = pid
        self.outputPath = outputPath
    }

    /// Starts `tailtrack ARGUMENTS…` with its output appended to `outputPath`.
    static func start(_ arguments: [String], outputPath: String) throws -> AgentUnderTest {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // Nothing else of the test process: an inherited listening socket of a test server
        // would keep its port taken after the server closed it.
        guard let closeFrom = Self.addCloseFrom, closeFrom(&actions, 3) == 0 else {
            throw IntegrationFailure("posix_spawn_file_actions_addclosefrom_np is unavailable (glibc 2.34 or later)")
        }
        let argv = ([TrackIntegrationPaths.binary] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, TrackIntegrationPaths.binary, &actions, nil, argv, environ)
        guard result == 0 else {
            throw IntegrationFailure(
                "cannot start \(TrackIntegrationPaths.binary): \(String(cString: strerror(result)))")
        }
        return AgentUnderTest(pid: pid, outputPath: outputPath)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np`, which Swift's Glibc module hides.
    private static let addCloseFrom:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            else { return nil }
            return unsafeBitCast(
                symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
        }()

    /// `tailtrack run --config CONFIG`.
    static func run(config: String, outputPath: String) throws -> AgentUnderTest {
        try start(["run", "--config", config], outputPath: outputPath)
    }

    /// How it ended, when it has (reaps it).
    func poll() -> AgentExit? {
        exit.withLock { exit in
            if exit == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { exit = AgentExit(waitStatus: status) }
            }
            return exit
        }
    }

    /// Waits up to `timeout` for the process to end.
    func waitForExit(timeout: Duration) async -> AgentExit? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let exit = poll() { return exit }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return poll()
    }

    func signal(_ signal: Int32) {
        if poll() == nil { _ = kill(pid, signal) }
    }

    /// `kill -9`, then reaps it.
    func killHard() {
        exit.withLock { exit in
            guard exit == nil else { return }
            _ = kill(pid, SIGKILL)
            var status: Int32 = 0
            if waitpid(pid, &status, 0) == pid { exit = AgentExit(waitStatus: status) }
        }
    }

    /// Ends the process if it still runs; for `defer`.
    func stop() { killHard() }

    /// Resident memory (`VmRSS` of `/proc/PID/status`) in kB; `nil` once it is gone.
    func residentKilobytes() -> Int? {
        statusField("VmRSS:")
    }

    /// Peak resident memory since the start (`VmHWM`) in kB; `nil` once it is gone.
    func peakResidentKilobytes() -> Int? {
        statusField("VmHWM:")
    }

    private func statusField(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name) {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// The open file descriptors whose file was deleted: their sizes, in bytes.
    func deletedFileSizes() -> [Int64] {
        let directory = "/proc/\(pid)/fd"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var sizes: [Int64] = []
        for name in names {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + name),
                target.hasSuffix(" (deleted)")
            else { continue }
            var info = stat()
            if stat(directory + "/" + name, &info) == 0 { sizes.append(Int64(info.st_size)) }
        }
        return sizes
    }

    /// Whether the process has `path` open.
    func hasOpen(_ path: String) -> Bool {
        let directory = "/proc/\(pid)/fd"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return false }
        return names.contains {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + $0)) == path
        }
    }

    /// Everything it printed so far.
    func output() -> String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }
}

/// A failure of the test harness itself, with a sentence saying what went wrong.
struct IntegrationFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
func trackEventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// A temporary directory with a log directory, a state directory and a config for the daemon
/// sending to a ``TrackTestServer``; removed by ``remove()``.
struct TrackWorkspace {
    static let siteID = "integration-site"
    static let apiKey = "integration-key"

    let root: String
    var logDirectory: String { root + "/log" }
    var stateDirectory: String { root + "/state" }
    var configPath: String { root + "/tailtrack.yml" }
    var logPath: String { logDirectory + "/app.log" }
    var deadLetterPath: String { stateDirectory + "/dead-letter.jsonl" }
    var positionsPath: String { stateDirectory + "/positions.json" }

    init() throws {
        root = try TemporaryDirectory.create(prefix: "tailtrack-delivery")
        try FileManager.default.createDirectory(atPath: root + "/log", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: false)
    }

    /// Removes the directory, unless `TAILTRACK_KEEP_TEMP` or `TAILTRACK_IT_KEEP` is set (to read a failed run's logs).
    func remove() {
        TemporaryDirectory.remove(root)
    }

    /// A server configured with the workspace's credentials.
    static func server(randomFaultRate: Double? = nil, seed: UInt64 = 1) -> TrackTestServer {
        TrackTestServer(
            configuration: .init(siteID: siteID, apiKey: apiKey, randomFaultRate: randomFaultRate, randomSeed: seed))
    }

    /// Writes the config: `app.log` of the log directory from the beginning, one rule making a
    /// `line` event per numbered line (identifier: the number). `extra` is appended as is
    /// (top-level YAML sections not set here: `batch:`, `retry:`, `tail:`).
    func writeConfig(
        url: String,
        requestTimeout: String = "5s",
        batch: String = "",
        retry: String = "  initial_backoff: 50ms\n  max_backoff: 500ms\n",
        tail: String = "",
        shutdownTimeout: String = "3s"
    ) throws {
        let yaml = """
            track:
              url: \(url)
              site_id: \(Self.siteID)
              api_key: \(Self.apiKey)
              timeout: \(requestTimeout)
            batch:
              flush_interval: 100ms
              max_requests_per_second: 1000
            \(batch)retry:
            \(retry)tail:
              poll_interval: 50ms
            \(tail)state_dir: \(stateDirectory)
            shutdown_timeout: \(shutdownTimeout)
            log_level: notice
            sources:
              - name: app
                paths: ["\(logPath)"]
                start_at: beginning
            rules:
              - name: line
                match: 'seq=(?<seq>\\d+)'
                operation:
                  type: person
                  action: event
                  identifiers: { id: "{{seq}}" }
                  name: line
                  attributes: { seq: "{{seq | int}}" }

            """
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// The daemon on this workspace's config, its output in `agent-N.log`.
    func startAgent(_ run: Int = 0) throws -> AgentUnderTest {
        try AgentUnderTest.run(config: configPath, outputPath: root + "/agent-\(run).log")
    }

    /// Saved positions by inode (of `source: app`); empty when there is no file yet.
    func positions() throws -> [UInt64: UInt64] {
        guard let data = FileManager.default.contents(atPath: positionsPath) else { return [:] }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let entries = object["entries"] as? [[String: Any]]
        else { throw IntegrationFailure("positions.json is not {\"entries\":[…]}") }
        var result: [UInt64: UInt64] = [:]
        for entry in entries {
            guard let inode = (entry["inode"] as? NSNumber)?.uint64Value,
                let offset = (entry["offset"] as? NSNumber)?.uint64Value
            else { throw IntegrationFailure("a positions.json entry has no inode or offset") }
            result[inode] = offset
        }
        return result
    }

    /// The identifiers (`seq`) of the operations in the dead-letter file, in order.
    func deadLetteredSequences() throws -> [Int] {
        guard let data = FileManager.default.contents(atPath: deadLetterPath) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { line in
            guard let letter = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let operation = letter["operation"] as? [String: Any],
                let identifiers = operation["identifiers"] as? [String: Any],
                let id = identifiers["id"] as? String, let seq = Int(id)
            else { throw IntegrationFailure("a dead letter has no operation with identifiers.id") }
            return seq
        }
    }
}

/// Writes numbered lines of a fixed length to `app.log`, rotating by rename, and remembers
/// which line numbers each file (inode) holds, so positions can be turned into line numbers.
final class NumberedLog {
    /// Every line is this long, newline included.
    let lineLength: Int
    let path: String
    private(set) var written = 0
    /// Per inode: the first line number and how many lines it holds.
    private(set) var files: [UInt64: (first: Int, count: Int)] = [:]
    private var currentInode: UInt64?
    private(set) var rotations = 0

    init(path: String, lineLength: Int = 100) {
        self.path = path
        self.lineLength = lineLength
    }

    /// The line for `seq`: `2026-01-01T00:00:00Z INFO seq=00000042 xxxx…\n`.
    func line(_ seq: Int) -> String {
        let number = String(seq)
        let head =
            "2026-01-01T00:00:00Z INFO seq=" + String(repeating: "0", count: max(0, 8 - number.count)) + number + " "
        return head + String(repeating: "x", count: lineLength - head.utf8.count - 1) + "\n"
    }

    /// Appends `count` lines in one `write`.
    func append(_ count: Int) throws {
        var text = ""
        text.reserveCapacity(count * lineLength)
        for seq in written..<(written + count) { text += line(seq) }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw IntegrationFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        let inode = UInt64(info.st_ino)
        if currentInode != inode {
            currentInode = inode
            files[inode] = (written, 0)
        }
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard result == bytes.count else { throw IntegrationFailure("short write to \(path)") }
        files[inode]?.count += count
        written += count
    }

    /// Rename rotation: `app.log.N` → `app.log.N+1`, …, `app.log` → `app.log.1`; the next
    /// ``append(_:)`` creates a new `app.log`.
    func rotate() throws {
        var index = rotations
        while index >= 1 {
            if FileManager.default.fileExists(atPath: "\(path).\(index)") {
                guard rename("\(path).\(index)", "\(path).\(index + 1)") == 0 else {
                    throw IntegrationFailure("cannot rename \(path).\(index)")
                }
            }
            index -= 1
        }
        guard rename(path, path + ".1") == 0 else { throw IntegrationFailure("cannot rename \(path)") }
        rotations += 1
        currentInode = nil
    }

    /// Rotation with deletion: `app.log` is renamed, then unlinked at once.
    func rotateAndDelete() throws {
        guard rename(path, path + ".1") == 0, unlink(path + ".1") == 0 else {
            throw IntegrationFailure("cannot rotate and delete \(path)")
        }
        rotations += 1
        currentInode = nil
    }

    /// The line numbers below `offset` in the file with `inode` (empty for an unknown inode).
    func linesCovered(inode: UInt64, offset: UInt64) -> Range<Int> {
        guard let file = files[inode] else { return 0..<0 }
        return file.first..<(file.first + min(file.count, Int(offset) / lineLength))
    }
}

/// What the server accepted, by line number: the operation ids each line was sent with.
struct AcceptedLines {
    var ids: [Int: [String]] = [:]

    init(_ operations: [RecordedOperation]) {
        for operation in operations {
            guard case .string(let id)? = operation["identifiers"]?["id"], let seq = Int(id),
                case .string(let operationID)? = operation["id"]
            else { continue }
            ids[seq, default: []].append(operationID)
        }
    }

    /// Line numbers in `range` that never arrived.
    func missing(_ range: Range<Int>) -> [Int] { range.filter { ids[$0] == nil } }

    /// Line numbers sent more than once with different operation ids.
    var inconsistent: [Int] { ids.filter { Set($0.value).count > 1 }.keys.sorted() }

    /// Line numbers that arrived more than once.
    var repeated: [Int] { ids.filter { $0.value.count > 1 }.keys.sorted() }
}

/// A Track test server that can go down (connection refused) and come back on the same port;
/// what every incarnation accepted, in order.
final class TrackEndpoint: Sendable {
    private let servers = Mutex<[TrackTestServer]>([])
    private let live = Mutex<TrackTestServer?>(nil)
    private let boundPort = Mutex(0)
    let randomFaultRate: Double?

    init(randomFaultRate: Double? = nil) {
        self.randomFaultRate = randomFaultRate
    }

    /// Starts a server (on the first port again after ``goDown()``).
    ///
    /// The port is picked below Linux's ephemeral range (32768 and up): a port from that
    /// range, once closed, may be taken by an outgoing connection, and coming back on it
    /// would fail.
    func comeUp(seed: UInt64 = 1) async throws {
        let server = TrackWorkspace.server(randomFaultRate: randomFaultRate, seed: seed)
        let port = boundPort.withLock { $0 }
        if port != 0 {
            try await server.start(port: port)
        } else {
            var attempt = 0
            while true {
                do {
                    try await server.start(port: Int.random(in: 20_000..<32_000))
                    break
                } catch  where attempt < 50 {
                    attempt += 1
                }
            }
        }
        boundPort.withLock { $0 = server.port }
        servers.withLock { $0.append(server) }
        live.withLock { $0 = server }
    }

    /// Closes the listening socket and its connections: requests are refused until ``comeUp(seed:)``.
    func goDown() async throws {
        let server = live.withLock { server in
            defer { server = nil }
            return server
        }
        try await server?.shutdown()
    }

    /// The server that is up.
    var current: TrackTestServer? { live.withLock { $0 } }

    var url: String { "http://127.0.0.1:\(boundPort.withLock { $0 })" }

    /// Every accepted operation, over all incarnations.
    var accepted: [RecordedOperation] { servers.withLock { $0.flatMap(\.accepted) } }

    var lines: AcceptedLines { AcceptedLines(accepted) }
}
