import Foundation
import Testing

/// `tailtrack run --config FILE` as a child process, with its stderr captured to a file (one
/// file per test, appended across restarts).
final class DaemonProcess {
    let configPath: String
    let stderrPath: String
    /// A command the daemon is started through (`unshare …`), which ends by `exec`ing the
    /// daemon's command line given as its last arguments; empty to start the daemon directly.
    var launcher: [String] = []
    private var process: Process?
    private var starts = 0

    init(configPath: String, stderrPath: String) {
        self.configPath = configPath
        self.stderrPath = stderrPath
    }

    var isRunning: Bool { process?.isRunning ?? false }

    /// Starts the daemon (it must not be running).
    func start() throws {
        precondition(!isRunning, "the daemon is already running")
        if !FileManager.default.fileExists(atPath: stderrPath) {
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        log.seekToEndOfFile()
        starts += 1
        if ProcessInfo.processInfo.environment["TAILTRACK_IT_KEEP"] != nil {
            // Keep the positions each start saw, to look at a failure.
            let positions = (configPath as NSString).deletingLastPathComponent + "/state/positions.json"
            try? FileManager.default.copyItem(atPath: positions, toPath: positions + ".start\(starts)")
        }
        let child = Process()
        let command = launcher + [IntegrationEnvironment.binary, "run", "--config", configPath]
        child.executableURL = URL(fileURLWithPath: command[0])
        child.arguments = Array(command.dropFirst())
        child.standardError = log
        child.standardOutput = log
        child.standardInput = FileHandle.nullDevice
        try child.run()
        try? log.close()
        process = child
    }

    /// SIGTERM, then waits for the exit; returns the exit status (or `nil` when it had to be
    /// killed after `timeout`).
    @discardableResult
    func terminate(timeout: Duration = .seconds(60)) -> Int32? {
        guard let process, process.isRunning else { return self.process?.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        guard eventually(timeout: timeout, { !process.isRunning }) else {
            kill9()
            return nil
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL, then waits for the process to be gone.
    func kill9() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Freezes (SIGSTOP) or resumes (SIGCONT) the daemon: to make it fall behind on purpose.
    func pause() { if let process, process.isRunning { kill(process.processIdentifier, SIGSTOP) } }
    func resume() { if let process, process.isRunning { kill(process.processIdentifier, SIGCONT) } }

    /// Kills the daemon if it still runs (test clean-up, also on failure).
    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGCONT)
        kill9()
    }

    /// Everything the daemon logged so far.
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
}
