import Foundation
import Testing
import TrackTestServer

@testable import TailTrack

/// Delivery through a server that fails at random: everything arrives, positions are
/// acknowledged in order, and what is sent twice carries the same bytes.
@Suite struct RandomFaultTests {
    @Test(arguments: [UInt64(7), 42])
    func everythingArrivesThroughRandomFaults(seed: UInt64) async throws {
        let directory = try TemporaryDirectory()
        let server = TrackTestServer(
            configuration: .init(
                siteID: DeliveryFixture.siteID,
                apiKey: DeliveryFixture.apiKey,
                randomFaultRate: 0.4,
                randomSeed: seed
            )
        )
        try await server.start()
        let client = try TrackClient(
            settings: DeliveryFixture.trackSettings(url: server.url),
            logger: DeliveryFixture.logger
        )
        let log = AcknowledgementLog()
        let batcher = Batcher(
            batch: BatchSettings(
                maxBytes: 620, flushInterval: .milliseconds(1), maxInFlight: 3, maxRequestsPerSecond: 10_000),
            retry: RetryPolicy(settings: DeliveryFixture.fastRetry),
            deadLetters: DeadLetterWriter(stateDirectory: directory.path, settings: DeadLetterSettings()),
            client: client,
            logger: DeliveryFixture.logger,
            acknowledge: { file, offset in await log.record(file, offset) }
        )
        let service = Task { try await batcher.run() }
        var sent: Set<[UInt8]> = []
        for chunk in 0..<10 {
            let operations = (0..<6).map { DeliveryFixture.operation(chunk * 6 + $0) }
            sent.formUnion(operations.map(\.bytes))
            await batcher.submit(DeliveryFixture.chunk(endOffset: UInt64(chunk + 1) * 100, operations))
        }
        #expect(await batcher.drain(timeout: .seconds(20)))
        #expect(Set(server.accepted.map(\.bytes)) == sent)
        let offsets = await log.offsets
        #expect(offsets == offsets.sorted())
        #expect(offsets.last == 1000)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/" + DeadLetterWriter.fileName))
        service.cancel()
        _ = await service.result
        await client.shutdown()
        try await server.shutdown()
    }
}
