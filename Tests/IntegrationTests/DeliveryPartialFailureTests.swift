import Foundation
import Glibc
import Testing
import TrackTestServer

extension DeliveryIntegrationTests {
    /// FAILURE-MODES row 9: partial failures dead-letter only the failed items, and what is sent
    /// again carries the same ids; `tailtrack dead-letters replay` then delivers the dead letters.
    @Suite struct DeliveryPartialFailureTests {
        @Test func onlyRejectedItemsAreDeadLetteredAndReplaysKeepTheirIDs() async throws {
            let workspace = try TrackWorkspace()
            defer { workspace.remove() }
            let endpoint = TrackEndpoint()
            try await endpoint.comeUp()
            let server = try #require(endpoint.current)
            // One batch at a time: a 207 rejecting items 1 and 3; a 500 after committing (then
            // its retry succeeds); an answer after the client's 1 s timeout (the server committed
            // before it).
            server.script(.errors([1, 3]), .commitThen(500), .status(200), .delay(.seconds(3), then: .status(200)))
            try workspace.writeConfig(url: endpoint.url, requestTimeout: "1s")
            let log = NumberedLog(path: workspace.logPath)
            let agent = try workspace.startAgent(0)
            defer { agent.stop() }

            try log.append(5)
            #expect(
                await trackEventually {
                    (try? workspace.deadLetteredSequences())?.count == 2 && endpoint.accepted.count == 3
                })
            try log.append(5)
            #expect(await trackEventually { endpoint.accepted.count == 3 + 10 })
            try log.append(5)
            #expect(await trackEventually { endpoint.accepted.count == 3 + 10 + 10 })

            let lines = endpoint.lines
            #expect(try workspace.deadLetteredSequences() == [1, 3])
            #expect(lines.missing(0..<15) == [1, 3])
            #expect(lines.repeated == Array(5..<15))
            #expect(lines.inconsistent.isEmpty)
            agent.signal(SIGTERM)
            #expect(await agent.waitForExit(timeout: .seconds(30)) == .exited(0))
            // Dead-lettered lines count as done: the position is at the end.
            #expect(try workspace.positions()[try inode(of: workspace.logPath)] == UInt64(15 * log.lineLength))

            // The cause is fixed on Track's side (the scripted rejections are used up): replay.
            let deadLetterIDs = try operationIDs(inDeadLetters: workspace.deadLetterPath)
            let replay = try AgentUnderTest.start(
                ["dead-letters", "replay", "--config", workspace.configPath], outputPath: workspace.root + "/replay.log"
            )
            defer { replay.stop() }
            #expect(await replay.waitForExit(timeout: .seconds(30)) == .exited(0))
            #expect(replay.output() == "read 2, accepted 2, still rejected 0\n")
            #expect(!FileManager.default.fileExists(atPath: workspace.deadLetterPath))
            let replayed = endpoint.lines
            #expect(replayed.missing(0..<15).isEmpty)
            #expect(replayed.ids[1] == [deadLetterIDs[0]])
            #expect(replayed.ids[3] == [deadLetterIDs[1]])
            try await endpoint.goDown()
        }

        /// A replay while Track still rejects an operation keeps it, with the new reason.
        @Test func replayKeepsWhatTrackStillRejects() async throws {
            let workspace = try TrackWorkspace()
            defer { workspace.remove() }
            let endpoint = TrackEndpoint()
            try await endpoint.comeUp()
            let server = try #require(endpoint.current)
            server.script(.errors([0, 1]))
            try workspace.writeConfig(url: endpoint.url)
            let log = NumberedLog(path: workspace.logPath)
            try log.append(2)
            let agent = try workspace.startAgent(0)
            defer { agent.stop() }
            #expect(await trackEventually { (try? workspace.deadLetteredSequences())?.count == 2 })
            agent.signal(SIGTERM)
            #expect(await agent.waitForExit(timeout: .seconds(30)) == .exited(0))

            server.script(.errors([1]))
            let replay = try AgentUnderTest.start(
                ["dead-letters", "replay", "--config", workspace.configPath], outputPath: workspace.root + "/replay.log"
            )
            defer { replay.stop() }
            #expect(await replay.waitForExit(timeout: .seconds(30)) == .exited(0))
            #expect(replay.output() == "read 2, accepted 1, still rejected 1\n")
            #expect(try workspace.deadLetteredSequences() == [1])
            #expect(endpoint.lines.missing(0..<2) == [1])
            try await endpoint.goDown()
        }

        /// The `id` of each operation in the dead-letter file, in order.
        private func operationIDs(inDeadLetters path: String) throws -> [String] {
            guard let data = FileManager.default.contents(atPath: path) else { return [] }
            return try data.split(separator: UInt8(ascii: "\n")).map { line in
                guard let letter = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                    let operation = letter["operation"] as? [String: Any], let id = operation["id"] as? String
                else { throw IntegrationFailure("a dead letter has no operation id") }
                return id
            }
        }
    }
}
