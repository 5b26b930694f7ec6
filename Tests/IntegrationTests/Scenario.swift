import Foundation
import Testing

/// One integration scenario: a temp directory, the daemon on its config, a numbered writer,
/// and the checks every scenario ends with.
final class Scenario {
    let environment: IntegrationEnvironment
    let daemon: DaemonProcess
    let writer = NumberedWriter()
    var random = SystemRandomNumberGenerator()

    init(_ name: String) throws {
        environment = try IntegrationEnvironment(name)
        daemon = DaemonProcess(configPath: environment.configPath, stderrPath: environment.root + "/daemon.log")
    }

    var logs: String { environment.logs }
    var log: String { environment.logs + "/app.log" }
    var delivered: DeliveredOutput { DeliveredOutput(path: environment.output) }
    /// The saved positions as the daemon left them, for a failure's message.
    var positions: String {
        (try? String(contentsOfFile: environment.positions, encoding: .utf8)) ?? "(none)"
    }

    /// Kills the daemon and removes the directory (call in `defer`).
    func cleanUp() {
        daemon.stop()
        environment.remove()
    }

    /// Waits until every written line was delivered; records an issue with what is missing
    /// when it does not happen in time.
    @discardableResult
    func waitForDelivery(timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let written = writer.written
        let done = eventually(timeout: timeout) { delivered.covers(written) }
        if !done {
            let output = delivered
            Issue.record(
                "not delivered in time: missing \(output.missing(written)) of \(written.count); log:\n\(daemon.stderr.suffix(3000))",
                sourceLocation: sourceLocation)
        }
        return done
    }

    /// Kills the daemon with SIGKILL after a random 0–`upTo` ms, then starts it again.
    func killAtRandomMoment(upTo milliseconds: UInt32 = 400) throws {
        usleep(UInt32.random(in: 0...milliseconds, using: &random) * 1000)
        daemon.kill9()
        try daemon.start()
    }

    /// Waits for delivery, stops the daemon (exit 0 expected) and checks the output: every
    /// written number delivered, none unknown, and repeats only with the same id.
    func finish(allowDuplicates: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) {
        waitForDelivery(sourceLocation: sourceLocation)
        // Let the last acknowledgements reach the positions file before stopping.
        let status = daemon.terminate()
        #expect(status == 0, "daemon exit status; log:\n\(daemon.stderr.suffix(3000))", sourceLocation: sourceLocation)
        let output = delivered
        let written = writer.written
        #expect(output.missing(written) == [], "lines never delivered", sourceLocation: sourceLocation)
        #expect(
            output.unexpected(written) == [], "lines delivered that were never written", sourceLocation: sourceLocation)
        #expect(
            output.conflicting == [],
            "lines delivered twice with different ids: \(output.conflictReport); positions:\n\(positions); log:\n\(daemon.stderr.suffix(6000))",
            sourceLocation: sourceLocation)
        if !allowDuplicates {
            #expect(output.duplicated == [], "lines delivered twice", sourceLocation: sourceLocation)
        }
    }
}
