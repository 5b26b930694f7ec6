import Foundation
import Glibc
import Testing

@testable import TailTrack

@Suite struct SystemdNotifierTests {
    @Test func sendsEachMessageAsOneDatagramToAPathSocket() async throws {
        let directory = try TemporaryDirectory()
        let receiver = try NotifySocketReceiver(address: directory.file("notify.sock"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])

        notifier.ready(status: "Following 2 files\nand more")
        notifier.watchdog()
        notifier.stopping()

        #expect(await receiver.next(timeout: .seconds(5)) == "READY=1\nSTATUS=Following 2 files and more")
        #expect(await receiver.next(timeout: .seconds(5)) == "WATCHDOG=1")
        #expect(await receiver.next(timeout: .seconds(5)) == "STOPPING=1")
    }

    @Test func reachesAnAbstractSocketNamedWithAnAt() async throws {
        let name = "@tailtrack-test-\(getpid())-\(UUID().uuidString)"
        let receiver = try NotifySocketReceiver(address: name)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name])

        notifier.reloading()

        let message = try #require(await receiver.next(timeout: .seconds(5)))
        let lines = message.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == "RELOADING=1")
        let microseconds = try #require(lines.last.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
        #expect(lines.last?.hasPrefix("MONOTONIC_USEC=") == true)
        #expect(microseconds <= SystemdNotifier.monotonicMicroseconds())
    }

    @Test func doesNothingWithoutANotifySocket() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.notify("READY=1"))
        #expect(notifier.watchdogInterval == nil)
    }

    @Test func pingsTheWatchdogAtHalfItsTimeoutOnlyForThisProcess() {
        let mine = SystemdNotifier(environment: [
            "NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())",
        ])
        #expect(mine.watchdogInterval == .seconds(15))
        let anyPID = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "2000000"])
        #expect(anyPID.watchdogInterval == .seconds(1))
        let other = SystemdNotifier(environment: [
            "NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1",
        ])
        #expect(other.watchdogInterval == nil)
    }
}
