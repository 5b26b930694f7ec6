import Foundation
import Testing
import TrackTestServer

@testable import TailTrack

@Suite struct DeadLetterReplayTests {
    @Test func resendsAndKeepsOnlyWhatStillFails() async throws {
        let directory = try TemporaryDirectory()
        let server = try await DeliveryFixture.makeServer()
        let client = try TrackClient(
            settings: DeliveryFixture.trackSettings(url: server.url),
            logger: DeliveryFixture.logger
        )
        let settings = DeadLetterSettings(maxBytes: 1_000_000, keep: 2)
        let writer = DeadLetterWriter(stateDirectory: directory.path, settings: settings)
        func letter(_ operation: EncodedOperation, reason: String) -> DeadLetter {
            DeadLetter(
                time: Date(timeIntervalSince1970: 0),
                rule: operation.rule,
                source: "app",
                file: "/var/log/app.log",
                offset: operation.lineOffset,
                reason: reason,
                operation: operation.bytes
            )
        }
        let good = DeliveryFixture.operation(1)
        let bad = DeliveryFixture.invalidOperation(2)
        try writer.write([letter(good, reason: "was rejected")])
        try writer.rotate()
        try writer.write([
            letter(bad, reason: "was rejected"),
            letter(EncodedOperation(bytes: [], rule: "r", lineOffset: 3), reason: "never built"),
        ])

        let replay = DeadLetterReplay(
            stateDirectory: directory.path, deadLetter: settings, batch: BatchSettings(), client: client)
        #expect(replay.files() == [writer.rotatedPath(1), writer.path])
        let summary = try await replay.run()
        #expect(summary.read == 2)
        #expect(summary.accepted == 1)
        #expect(summary.remaining == 2)
        #expect(summary.stoppedBy == nil)
        #expect(server.accepted.map(\.bytes) == [good.bytes])
        #expect(!FileManager.default.fileExists(atPath: writer.rotatedPath(1)))
        let left = directory.lines(DeadLetterWriter.fileName).compactMap { DeadLetter(jsonLine: Array($0.utf8)) }
        #expect(
            left.map(\.reason) == ["Track rejected it: invalid: identifiers: identifiers are required", "never built"])
        #expect(left.first?.operation == bad.bytes)
        await client.shutdown()
        try await server.shutdown()
    }
}
