import Glibc

/// A program the benchmark runs (a baseline like `wc -l`, or the agent itself), reaped with
/// `wait4` so its own CPU time and peak RSS are known exactly.
final class ChildProcess {
    /// What a finished child used.
    struct Usage: Sendable {
        /// Exit status as `waitpid` reports it.
        var status: Int32
        /// User + system CPU seconds.
        var cpuSeconds: Double
        /// `ru_maxrss`, bytes. Linux carries the parent's high-water mark over `posix_spawn`'s
        /// exec, so for a small child this is the spawning process's peak: use
        /// ``ChildProcess/peakRSSBytesSoFar`` for the child's own.
        var maxRSSBytes: Int
        /// The exit code, or `nil` when the child was killed by a signal.
        var exitCode: Int32? { status & 0x7F == 0 ? (status >> 8) & 0xFF : nil }
    }

    let pid: pid_t
    let command: String

    /// Starts `arguments[0]` (searched in `PATH`) with its output to `stdoutPath` (default
    /// /dev/null) and its errors to `stderrPath` (default: the benchmark's own).
    init(_ arguments: [String], stdoutPath: String = "/dev/null", stderrPath: String? = nil) throws {
        command = arguments.joined(separator: " ")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let stderrPath {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let result = posix_spawnp(&child, arguments[0], &actions, nil, argv, environ)
        guard result == 0 else {
            throw BenchError("cannot run \(arguments[0]): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// Sends `signal` to the child.
    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the child to exit (blocking this thread) and returns what it used.
    func wait() -> Usage {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let cpu =
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
        return Usage(status: status, cpuSeconds: cpu, maxRSSBytes: Int(usage.ru_maxrss) * 1024)
    }

    /// True while the child has not exited (a zombie, exited but not reaped, counts as exited).
    var isRunning: Bool {
        guard let stat = ProcFile.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// The child's own peak resident set so far (`VmHWM` of /proc/PID/status), bytes.
    var peakRSSBytesSoFar: Int? {
        ProcFile.peakRSSBytes(status: "/proc/\(pid)/status")
    }

    /// How the child links the Swift runtime, from its mappings: `dynamic` when it maps
    /// `libswiftCore.so`, `static` when not, `nil` when they cannot be read (it exited).
    var swiftRuntimeLinkage: String? {
        guard let maps = ProcFile.read("/proc/\(pid)/maps"), !maps.isEmpty else { return nil }
        return maps.contains("/libswiftCore.so") ? "dynamic" : "static"
    }

    /// The child's resident set now (`VmRSS`), bytes.
    var rssBytesNow: Int? {
        ProcFile.kilobytes("VmRSS:", status: "/proc/\(pid)/status").map { $0 * 1024 }
    }

    /// The child's CPU seconds so far, from `/proc/PID/stat` (utime + stime).
    var cpuSecondsSoFar: Double? {
        guard let stat = ProcFile.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Runs `arguments` to the end and returns its wall time and usage; throws when it fails.
    ///
    /// Output goes to `stdoutPath`, a real file: GNU grep stops at the first match when its
    /// output is /dev/null.
    static func time(_ arguments: [String], stdoutPath: String, allowedExitCodes: Set<Int32> = [0]) throws -> (
        seconds: Double, usage: Usage
    ) {
        let start = ContinuousClock.now
        let child = try ChildProcess(arguments, stdoutPath: stdoutPath)
        let usage = child.wait()
        let seconds = (ContinuousClock.now - start).seconds
        guard let code = usage.exitCode, allowedExitCodes.contains(code) else {
            throw BenchError("\(child.command) failed (wait status \(usage.status))")
        }
        return (seconds, usage)
    }
}

/// Small files of /proc, read whole.
enum ProcFile {
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = block.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got <= 0 { break }
            bytes += block[0..<got]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The peak resident set (`VmHWM`) in a /proc status file, bytes.
    static func peakRSSBytes(status path: String) -> Int? {
        kilobytes("VmHWM:", status: path).map { $0 * 1024 }
    }

    /// A `kB` field of a /proc status file (`VmRSS:`, `RssAnon:`, …), in kB.
    static func kilobytes(_ field: String, status path: String) -> Int? {
        guard let status = read(path) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            return Int(line.dropFirst(field.count).filter(\.isNumber))
        }
        return nil
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
