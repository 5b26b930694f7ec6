import Foundation
import Glibc

/// The package root, from this file's path.
let servicePackageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The built `tailtrack` binary the integration tests run.
let serviceBinary = servicePackageRoot + "/.build/debug/tailtrack"

/// Polls `condition` until it holds or `timeout` passes.
func serviceEventually(timeout: Duration = .seconds(60), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}

/// A process run as a user would, killed when released whatever happened.
final class ServiceProcess {
    let process = Process()
    let stderrPath: String

    /// Starts `arguments` of the tailtrack binary (or of `executable`) with `environment`
    /// added to this process's; standard error goes to `stderrPath`.
    init(
        _ arguments: [String], executable: String = serviceBinary, environment: [String: String] = [:],
        stderrPath: String
    ) throws {
        self.stderrPath = stderrPath
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY"] {
            merged[name] = nil
        }
        merged.merge(environment) { _, new in new }
        process.environment = merged
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// What the process wrote to standard error so far.
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Waits for `text` in standard error.
    func waitForLog(_ text: String, timeout: Duration = .seconds(60)) async -> Bool {
        await serviceEventually(timeout: timeout) { stderr.contains(text) }
    }

    /// Sends SIGTERM and waits for the exit status (SIGKILL after `timeout`).
    func stop(timeout: Duration = .seconds(60)) async -> Int32? {
        signal(SIGTERM)
        return await waitForExit(timeout: timeout)
    }

    /// The exit status once the process exits within `timeout`; `nil` (and SIGKILL) otherwise.
    func waitForExit(timeout: Duration = .seconds(60)) async -> Int32? {
        let exited = await serviceEventually(timeout: timeout) { !process.isRunning }
        guard exited else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Runs a command to completion; returns its status and its standard output and error together.
func serviceRun(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (
    status: Int32, output: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A Unix datagram socket bound where `NOTIFY_SOCKET` points, read as systemd would.
final class ServiceNotifySocket {
    let path: String
    private let fd: Int32

    struct Failure: Error {
        var errno: Int32
    }

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2) + socklen_t(bytes.count)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else {
            let failure = errno
            close(fd)
            throw Failure(errno: failure)
        }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Messages received until one satisfies `stop` (included), or until `timeout`.
    func collect(timeout: Duration = .seconds(60), until stop: (String) -> Bool) async -> [String] {
        let deadline = ContinuousClock.now + timeout
        var messages: [String] = []
        while ContinuousClock.now < deadline {
            if let message = receiveNow() {
                messages.append(message)
                if stop(message) { return messages }
            } else {
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        return messages
    }

    private func receiveNow() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}

/// A minimal HTTP/1.0 GET over a TCP socket: status code and body.
func serviceHTTPGet(host: String, port: Int, path: String) -> (status: Int, body: String)? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, host, &address.sin_addr)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return nil }
    let request = "GET \(path) HTTP/1.0\r\nHost: \(host)\r\n\r\n"
    _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        response += buffer[0..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { return nil }
    let statusLine = text[..<split.lowerBound].split(separator: "\r\n").first ?? ""
    let parts = statusLine.split(separator: " ")
    guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
    return (status, String(text[split.upperBound...]))
}
