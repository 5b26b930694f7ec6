import Foundation
import Testing

@testable import TailTrack

@Suite struct FileOutputSinkTests {
    @Test func appendsLinesThenAcknowledges() async throws {
        let directory = try TemporaryDirectory()
        let log = AcknowledgementLog()
        let sink = FileOutputSink(
            path: directory.path + "/out.jsonl",
            stateDirectory: directory.path,
            deadLetter: DeadLetterSettings(),
            logger: DeliveryFixture.logger,
            acknowledge: { file, offset in await log.record(file, offset) }
        )
        let operations = [DeliveryFixture.operation(1), DeliveryFixture.operation(2)]
        let rejected = RejectedOperation(bytes: [], rule: "r", lineOffset: 4, reason: "no user id")
        await sink.submit(DeliveryFixture.chunk(endOffset: 50, operations, rejected: [rejected]))
        #expect(directory.lines("out.jsonl") == operations.map { String(decoding: $0.bytes, as: UTF8.self) })
        #expect(directory.lines(DeadLetterWriter.fileName).count == 1)
        #expect(await log.offsets == [50])
        #expect(await sink.drain(timeout: .seconds(1)))
    }
}
