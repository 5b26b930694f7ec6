import Foundation
import Glibc
import Testing
import TrackTestServer

extension DeliveryIntegrationTests {
    /// The daemon against the Track test server while faults happen and the agent is killed with
    /// `kill -9`: every line arrives at least once, a repeat carries its first copy's id, and a
    /// saved position never covers a line the server has not accepted.
    @Suite struct DeliveryCrashTests {
        /// Random faults (500, 429, dropped connections, 500 after commit) on 30 % of requests,
        /// 3 × `kill -9` at random moments, 5 rename rotations; 6,000 lines.
        ///
        /// A kill may fall anywhere, between a rename and the next create included.
        @Test func everyLineArrivesThroughFaultsKillsAndRotations() async throws {
            // TAILTRACK_TEST_SEED repeats a failed run.
            let seed =
                ProcessInfo.processInfo.environment["TAILTRACK_TEST_SEED"].flatMap { UInt64($0) }
                ?? UInt64(UInt32.random(in: 1...UInt32.max))
            var random = SplitMix64(seed: seed)
            let workspace = try TrackWorkspace()
            defer { workspace.remove() }
            let endpoint = TrackEndpoint(randomFaultRate: 0.3)
            try await endpoint.comeUp(seed: seed)
            try workspace.writeConfig(url: endpoint.url, batch: "  max_bytes: 20000\n")
            let log = NumberedLog(path: workspace.logPath)

            let writes = 30
            let kills = Set(
                [3..<9, 13..<19, 23..<28].map { window in Int.random(in: window, using: &random) })
            var agent = try workspace.startAgent(0)
            defer { agent.stop() }
            for step in 0..<writes {
                try log.append(200)
                if step % 6 == 5 { try log.rotate() }
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...250, using: &random)))
                if kills.contains(step) {
                    agent.killHard()
                    try checkPositions(workspace, log, endpoint, "after kill -9 at step \(step), seed \(seed)")
                    agent = try workspace.startAgent(step + 1)
                }
            }
            _ = await trackEventually(timeout: .seconds(90)) { endpoint.lines.missing(0..<log.written).isEmpty }
            let lines = endpoint.lines
            let missing = lines.missing(0..<log.written)
            let message = Comment(
                rawValue: """
                    lines missing: \(ranges(missing)) (seed \(seed), kills after writes \(kills.sorted()), \
                    logs in \(workspace.root))
                    """)
            #expect(missing.count == 0, message)
            #expect(lines.inconsistent.isEmpty, "repeats with a different id (seed \(seed))")
            #expect(lines.ids.keys.allSatisfy { (0..<log.written).contains($0) })
            #expect(log.rotations == 5)

            agent.signal(SIGTERM)
            #expect(await agent.waitForExit(timeout: .seconds(30)) == .exited(0), "\(agent.output())")
            try checkPositions(workspace, log, endpoint, "after SIGTERM, seed \(seed)")
            #expect(!FileManager.default.fileExists(atPath: workspace.deadLetterPath))
            try await endpoint.goDown()
        }

        /// FAILURE-MODES row 8: the server holds a 2xx for 5 s; `kill -9` in that window. The
        /// position was not saved, so the restarted agent sends the batch again with the same ids.
        @Test func killWhileTheServerHoldsTheAnswerResendsWithTheSameIDs() async throws {
            let workspace = try TrackWorkspace()
            defer { workspace.remove() }
            let endpoint = TrackEndpoint()
            try await endpoint.comeUp()
            let server = try #require(endpoint.current)
            server.script(.delay(.seconds(5), then: .status(200)))
            try workspace.writeConfig(url: endpoint.url, requestTimeout: "30s")
            let log = NumberedLog(path: workspace.logPath)
            try log.append(10)

            var agent = try workspace.startAgent(0)
            defer { agent.stop() }
            // The server records the operations when the request arrives, then holds the answer.
            #expect(await trackEventually(timeout: .seconds(30)) { server.requestCount >= 1 })
            #expect(endpoint.accepted.count == 10)
            agent.killHard()
            let saved = try workspace.positions().values.max() ?? 0
            #expect(saved == 0, "a position was saved before Track answered")

            agent = try workspace.startAgent(1)
            #expect(await trackEventually(timeout: .seconds(30)) { endpoint.accepted.count >= 20 })
            let lines = endpoint.lines
            #expect(lines.repeated == Array(0..<10))
            #expect(lines.inconsistent.isEmpty)
            #expect(endpoint.accepted.count == 20)
            agent.signal(SIGTERM)
            #expect(await agent.waitForExit(timeout: .seconds(30)) == .exited(0))
            #expect(try workspace.positions()[try inode(of: workspace.logPath)] == UInt64(10 * log.lineLength))
            try await endpoint.goDown()
        }

        /// FAILURE-MODES row 4: stopped, `app.log` is rotated twice with lines written in
        /// between; at the next start the file rotated while stopped (never seen, no saved
        /// position) must be read too.
        @Test func rotatedWhileStoppedFileIsReadAfterRestart() async throws {
            let workspace = try TrackWorkspace()
            defer { workspace.remove() }
            let endpoint = TrackEndpoint()
            try await endpoint.comeUp()
            try workspace.writeConfig(url: endpoint.url)
            let log = NumberedLog(path: workspace.logPath)
            try log.append(10)
            let agent = try workspace.startAgent(0)
            defer { agent.stop() }
            #expect(await trackEventually { endpoint.lines.missing(0..<10).isEmpty })
            agent.signal(SIGTERM)
            #expect(await agent.waitForExit(timeout: .seconds(30)) == .exited(0))

            try log.rotate()
            try log.append(10)
            try log.rotate()
            try log.append(10)
            let next = try workspace.startAgent(1)
            defer { next.stop() }
            #expect(await trackEventually(timeout: .seconds(10)) { endpoint.lines.missing(20..<30).isEmpty })
            let delivered = await trackEventually(timeout: .seconds(3)) { endpoint.lines.missing(0..<30).isEmpty }
            // Fixed by the tailer's restart handling (files the saved state does not cover are
            // read from 0 when newer than the newest saved file).
            #expect(delivered, "lines missing: \(ranges(endpoint.lines.missing(0..<30)))")
            next.signal(SIGTERM)
            #expect(await next.waitForExit(timeout: .seconds(30)) == .exited(0))
            try await endpoint.goDown()
        }

        /// Stopped after `app.log` was renamed and before it was created again: at the next start
        /// the renamed file must be finished from its saved position.
        @Test func fileRenamedWhileStoppedIsFinishedWhenTheLivePathIsMissingAtStart() async throws {
            let workspace = try TrackWorkspace()
            defer { workspace.remove() }
            let endpoint = TrackEndpoint()
            try await endpoint.comeUp()
            try workspace.writeConfig(url: endpoint.url)
            let log = NumberedLog(path: workspace.logPath)
            try log.append(10)
            let agent = try workspace.startAgent(0)
            defer { agent.stop() }
            #expect(await trackEventually { endpoint.lines.missing(0..<10).isEmpty })
            agent.signal(SIGTERM)
            #expect(await agent.waitForExit(timeout: .seconds(30)) == .exited(0))

            try log.append(10)
            try log.rotate()
            let next = try workspace.startAgent(1)
            defer { next.stop() }
            try await Task.sleep(for: .milliseconds(500))
            try log.append(10)
            #expect(await trackEventually(timeout: .seconds(10)) { endpoint.lines.missing(20..<30).isEmpty })
            let delivered = await trackEventually(timeout: .seconds(3)) { endpoint.lines.missing(0..<30).isEmpty }
            #expect(delivered, "lines missing: \(ranges(endpoint.lines.missing(0..<30)))")
            next.signal(SIGTERM)
            #expect(await next.waitForExit(timeout: .seconds(30)) == .exited(0))
            try await endpoint.goDown()
        }

        /// Every saved position covers only lines the server accepted.
        private func checkPositions(
            _ workspace: TrackWorkspace, _ log: NumberedLog, _ endpoint: TrackEndpoint, _ when: String
        ) throws {
            let lines = endpoint.lines
            for (inode, offset) in try workspace.positions() {
                let covered = log.linesCovered(inode: inode, offset: offset)
                let ahead = lines.missing(covered)
                #expect(
                    ahead.isEmpty,
                    "position \(offset) of inode \(inode) covers unaccepted lines \(ahead.prefix(5)) \(when)"
                )
            }
        }
    }
}

/// `[3, 4, 5, 9]` as `3..<6, 9..<10`.
func ranges(_ numbers: [Int]) -> String {
    var parts: [String] = []
    var index = 0
    while index < numbers.count {
        var end = index
        while end + 1 < numbers.count, numbers[end + 1] == numbers[end] + 1 { end += 1 }
        parts.append("\(numbers[index])..<\(numbers[end] + 1)")
        index = end + 1
    }
    return parts.joined(separator: ", ")
}

/// The inode of `path`.
func inode(of path: String) throws -> UInt64 {
    var info = stat()
    guard stat(path, &info) == 0 else { throw IntegrationFailure("cannot stat \(path)") }
    return UInt64(info.st_ino)
}
