import Foundation
import Testing

/// The real `/usr/sbin/logrotate`, forced (`-f`) on one config and state file in the test's
/// directory.
struct Logrotate {
    static let executable = "/usr/sbin/logrotate"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    let configPath: String
    let statePath: String

    /// Writes a config rotating `logPath` with the given directives (`create`,
    /// `copytruncate`, `compress`, …) inside the braces.
    init(directory: String, logPath: String, directives: [String]) throws {
        configPath = directory + "/logrotate.conf"
        statePath = directory + "/logrotate.state"
        let body = (["rotate 50", "missingok", "nomail"] + directives).map { "    " + $0 }.joined(separator: "\n")
        try "\(logPath) {\n\(body)\n}\n".write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Runs one forced rotation; fails the test when logrotate does not exit 0.
    func rotate(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["-f", "-s", statePath, configPath]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(
            process.terminationStatus == 0, "logrotate failed: \(String(decoding: output, as: UTF8.self))",
            sourceLocation: sourceLocation)
    }
}
