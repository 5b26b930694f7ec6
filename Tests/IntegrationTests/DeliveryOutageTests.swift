import Foundation
import Glibc
import Testing
import TrackTestServer

extension DeliveryIntegrationTests {
    /// The daemon while Track is unreachable: memory stays bounded, deleted files are released by
    /// policy, SIGTERM still exits in time, and everything arrives once Track is back.
    @Suite struct DeliveryOutageTests {
        /// FAILURE-MODES row 11, scaled from 10 minutes to 60 s: Track refuses connections while
        /// 40 MB of log (20,000 lines of 2 KB) are written across 5 rotations. RSS stays under a
        /// fixed bound; after Track comes back every line arrives, with no restart.
        ///
        /// The bound: the agent holds at most `queue_bytes` (1 MB) of operations, `max_in_flight`
        /// (4) request bodies of at most 100 KB, and one 256 KB read buffer per open file (6);
        /// about 3 MB. The bound is the RSS before the outage plus 24 MB: room for allocator slack,
        /// yet well below the 40 MB of log a buffer of unsent lines would hold.
        @Test func memoryStaysBoundedThroughALongOutageAndEverythingArrivesAfter() async throws {
            let workspace = try TrackWorkspace()
            defer { workspace.remove() }
            let endpoint = TrackEndpoint()
            try await endpoint.comeUp()
            try workspace.writeConfig(
                url: endpoint.url, requestTimeout: "30s", batch: "  max_bytes: 100000\n  queue_bytes: 1MB\n",
                retry: "  initial_backoff: 200ms\n  max_backoff: 2s\n")
            let log = NumberedLog(path: workspace.logPath, lineLength: 2000)
            try log.append(1000)
            let agent = try workspace.startAgent(0)
            defer { agent.stop() }
            #expect(await trackEventually { endpoint.lines.missing(0..<1000).isEmpty })
            let baseline = try #require(agent.residentKilobytes())
            let bound = baseline + 24 * 1024

            try await endpoint.goDown()
            let outage = Duration.seconds(60)
            let rotations = 5
            let linesPerRotation = 4000
            let started = ContinuousClock.now
            var peak = baseline
            for rotation in 0..<rotations {
                for _ in 0..<20 {
                    try log.append(linesPerRotation / 20)
                    let elapsed = started.duration(to: .now)
                    let target = outage * Double(rotation * 20 + 1) / Double(rotations * 20)
                    if target > elapsed { try await Task.sleep(for: target - elapsed) }
                    peak = max(peak, agent.residentKilobytes() ?? 0)
                }
                try log.rotate()
            }
            while started.duration(to: .now) < outage {
                peak = max(peak, agent.residentKilobytes() ?? 0)
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(agent.poll() == nil, "the agent stopped during the outage: \(agent.output())")
            #expect(peak <= bound, "RSS peaked at \(peak) kB; baseline \(baseline) kB, bound \(bound) kB")
            #expect(endpoint.accepted.count == 1000)

            try await endpoint.comeUp()
            try log.append(100)
            let total = log.written
            #expect(
                await trackEventually(timeout: .seconds(90)) { endpoint.lines.missing((total - 100)..<total).isEmpty })
            // Then until nothing more arrives for 3 s.
            var count = -1
            var quietSince = ContinuousClock.now
            _ = await trackEventually(timeout: .seconds(60)) {
                let now = endpoint.accepted.count
                if now != count { (count, quietSince) = (now, .now) }
                return quietSince.duration(to: .now) >= .seconds(3)
            }
            let missing = endpoint.lines.missing(0..<total)
            #expect(missing.count == 0, "lines missing after recovery: \(ranges(missing))")
            #expect(endpoint.lines.inconsistent.isEmpty)
            agent.signal(SIGTERM)
            #expect(await agent.waitForExit(timeout: .seconds(30)) == .exited(0))
            try await endpoint.goDown()
        }

        /// FAILURE-MODES row 12: Track is down while files are rotated and deleted at once. The
        /// bytes held by deleted files stay within `tail.max_deleted_bytes`; what is released
        /// unread is logged and counted, and every other line arrives once Track is back.
        @Test func deletedFilesAreHeldOnlyUpToTheCapThenCountedAsLost() async throws {
            let workspace = try TrackWorkspace()
            defer { workspace.remove() }
            let endpoint = TrackEndpoint()
            try await endpoint.comeUp()
            let cap = 1_000_000
            try workspace.writeConfig(
                url: endpoint.url, batch: "  max_bytes: 100000\n  queue_bytes: 200KB\n",
                tail: "  max_deleted_bytes: \(cap)\n")
            try await endpoint.goDown()
            let log = NumberedLog(path: workspace.logPath, lineLength: 200)
            let agent = try workspace.startAgent(0)
            defer { agent.stop() }

            // 5 files of 600 KB, each rotated and deleted at once (after the agent opened it, when
            // it does within 2 s).
            var opened: [Bool] = []
            var settled: [Bool] = []
            for _ in 0..<5 {
                try log.append(3000)
                opened.append(await trackEventually(timeout: .seconds(2)) { agent.hasOpen(workspace.logPath) })
                try log.rotateAndDelete()
                // Right after a deletion the bytes held may exceed the cap until the next poll.
                settled.append(
                    await trackEventually(timeout: .seconds(2)) { agent.deletedFileSizes().reduce(0, +) <= cap })
            }
            try log.append(100)
            let releasedLogged = await trackEventually(timeout: .seconds(2)) {
                agent.output().contains("Released a deleted file before reading all of it")
            }

            try await endpoint.comeUp()
            let total = log.written
            #expect(await trackEventually { endpoint.lines.missing((total - 100)..<total).isEmpty })
            // Every line either arrived or was counted as lost.
            let accounted = await trackEventually(timeout: .seconds(5)) {
                endpoint.lines.ids.count * log.lineLength + lostBytes(in: agent.output()) == total * log.lineLength
            }
            let arrived = endpoint.lines.ids.count
            // While delivery applies backpressure the tailer stops reading but keeps scanning: it
            // opens each new file and enforces max_deleted_bytes.
            #expect(settled == Array(repeating: true, count: 5), "deleted bytes within the cap after each deletion")
            #expect(opened == Array(repeating: true, count: 5), "files the agent opened before their deletion")
            #expect(releasedLogged)
            #expect(accounted, "arrived \(arrived) lines, lost \(lostBytes(in: agent.output())) bytes, wrote \(total)")
            #expect(endpoint.lines.inconsistent.isEmpty)
            agent.signal(SIGTERM)
            #expect(await agent.waitForExit(timeout: .seconds(30)) == .exited(0))
            try await endpoint.goDown()
        }

        /// SIGTERM while Track is down: the agent exits 0 within `shutdown_timeout` plus a margin,
        /// and the lines it could not send are delivered after the next start.
        @Test func sigtermDuringAnOutageExitsInTimeAndTheNextStartDelivers() async throws {
            let workspace = try TrackWorkspace()
            defer { workspace.remove() }
            let endpoint = TrackEndpoint()
            try await endpoint.comeUp()
            try workspace.writeConfig(url: endpoint.url, shutdownTimeout: "2s")
            let log = NumberedLog(path: workspace.logPath)
            try log.append(100)
            let agent = try workspace.startAgent(0)
            defer { agent.stop() }
            #expect(await trackEventually { endpoint.lines.missing(0..<100).isEmpty })

            try await endpoint.goDown()
            try log.append(100)
            #expect(await trackEventually { agent.output().contains("request to Track failed; retrying") })
            let stopping = ContinuousClock.now
            agent.signal(SIGTERM)
            let exit = await agent.waitForExit(timeout: .seconds(30))
            let took = stopping.duration(to: .now)
            #expect(exit == .exited(0), "\(agent.output())")
            // 2 s of shutdown_timeout, plus a margin for saving positions on a loaded machine.
            #expect(took < .seconds(2 + 3), "SIGTERM took \(took)")
            #expect(agent.output().contains("Shutdown timeout reached with operations still queued"))
            #expect(try workspace.positions()[try inode(of: workspace.logPath)] == UInt64(100 * log.lineLength))

            try await endpoint.comeUp()
            let next = try workspace.startAgent(1)
            defer { next.stop() }
            #expect(await trackEventually { endpoint.lines.missing(0..<200).isEmpty })
            #expect(endpoint.lines.repeated.isEmpty)
            next.signal(SIGTERM)
            #expect(await next.waitForExit(timeout: .seconds(30)) == .exited(0))
            try await endpoint.goDown()
        }

        /// Retries share one pause: with Track answering 503 and four requests in flight, Track
        /// sees about one request per backoff interval, not four.
        @Test func aFailingEndpointSeesOneRequestPerBackoffInterval() async throws {
            let workspace = try TrackWorkspace()
            defer { workspace.remove() }
            let endpoint = TrackEndpoint()
            try await endpoint.comeUp()
            let server = try #require(endpoint.current)
            for _ in 0..<1000 { server.script(.status(503)) }
            // Backoff is a uniform wait in 0..<2 s: on average one request a second when shared.
            try workspace.writeConfig(
                url: endpoint.url, batch: "  max_bytes: 2000\n  max_in_flight: 4\n",
                retry: "  initial_backoff: 2s\n  max_backoff: 2s\n")
            let log = NumberedLog(path: workspace.logPath)
            try log.append(200)
            let agent = try workspace.startAgent(0)
            defer { agent.stop() }
            #expect(await trackEventually { server.requestCount >= 1 })
            let first = server.requestCount
            try await Task.sleep(for: .seconds(8))
            let during = server.requestCount - first
            // Shared: about 8 (one per second on average); four retrying on their own: about 32.
            #expect(during <= 16, "\(during) requests in 8 s")
            #expect(during >= 2, "\(during) requests in 8 s")
            #expect(endpoint.accepted.isEmpty)
            agent.signal(SIGTERM)
            #expect(await agent.waitForExit(timeout: .seconds(30)) == .exited(0))
            try await endpoint.goDown()
        }
    }
}

/// The sum of `lost.bytes` over the agent's "Released a deleted file" log lines.
func lostBytes(in output: String) -> Int {
    var total = 0
    for line in output.split(separator: "\n") where line.contains("Released a deleted file") {
        guard let range = line.range(of: "lost.bytes=") else { continue }
        let digits = line[range.upperBound...].prefix { $0.isNumber }
        total += Int(digits) ?? 0
    }
    return total
}
