import Foundation
import Glibc
import Testing

/// The daemon speaks systemd's notify protocol on a real datagram socket, in the right order.
@Suite struct ServiceNotifyTests {
    @Test func reportsReadyReloadingAndStoppingInOrderAndPingsTheWatchdog() async throws {
        let scratch = try TemporaryDirectory()
        try scratch.write("app.log", "buy user=1\nbuy user=2\n")
        try scratch.write(
            "tailtrack.yml",
            """
            state_dir: \(scratch.file("state"))
            output: { file: \(scratch.file("out.jsonl")) }
            sources:
              - { name: app, paths: ["\(scratch.file("app.log"))"], start_at: beginning }
            rules:
              - name: buy
                match: 'buy user=(?<user>\\d+)'
                operation: { type: person, action: event, name: buy, identifiers: { id: "{{user}}" } }
            """)
        let socket = try ServiceNotifySocket(path: scratch.file("notify.sock"))
        let daemon = try ServiceProcess(
            ["run", "--config", scratch.file("tailtrack.yml")],
            environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "2000000"],
            stderrPath: scratch.file("stderr.log"))

        var messages = await socket.collect { $0.hasPrefix("READY=1") }
        #expect(messages.last?.hasPrefix("READY=1\nSTATUS=Following 1 file; ") == true, "\(messages)")
        messages += await socket.collect { $0 == "WATCHDOG=1" }
        #expect(messages.last == "WATCHDOG=1", "\(messages) \(daemon.stderr)")

        daemon.signal(SIGHUP)
        messages += await socket.collect { $0.hasPrefix("RELOADING=1") }
        messages += await socket.collect { $0.hasPrefix("READY=1") }
        #expect(await daemon.waitForLog("Reloaded config"))

        let stopped = Task { await socket.collect { $0 == "STOPPING=1" } }
        let status = await daemon.stop()
        messages += await stopped.value
        #expect(status == 0, "\(daemon.stderr)")

        let lifecycle = messages.filter { !$0.hasPrefix("WATCHDOG=") && !$0.hasPrefix("STATUS=") }
        #expect(lifecycle.count == 4, "\(messages)")
        guard lifecycle.count == 4 else { return }
        #expect(lifecycle[0].hasPrefix("READY=1\nSTATUS=Following 1 file; "))
        #expect(lifecycle[1].range(of: #"^RELOADING=1\nMONOTONIC_USEC=[0-9]+$"#, options: .regularExpression) != nil)
        #expect(lifecycle[2] == "READY=1\nSTATUS=Reloaded: 1 rule")
        #expect(lifecycle[3] == "STOPPING=1")
    }
}
