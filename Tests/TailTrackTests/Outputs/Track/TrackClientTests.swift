import Foundation
import Testing
import TrackTestServer

@testable import TailTrack

@Suite struct TrackClientTests {
    private func withClient(
        rejectWhole: Bool = false,
        key: String = DeliveryFixture.apiKey,
        _ body: (TrackClient, TrackTestServer) async throws -> Void
    ) async throws {
        let server = try await DeliveryFixture.makeServer(rejectWhole: rejectWhole)
        let client = try TrackClient(
            settings: DeliveryFixture.trackSettings(url: server.url, key: key),
            logger: DeliveryFixture.logger
        )
        do {
            try await body(client, server)
        } catch {
            Issue.record(error)
        }
        await client.shutdown()
        try await server.shutdown()
    }

    private func body(_ operations: [EncodedOperation]) -> [UInt8] {
        TrackBatchBody.build(operations.map(\.bytes))
    }

    @Test func acceptedBatchIsRecordedByteForByte() async throws {
        try await withClient { client, server in
            let operations = [DeliveryFixture.operation(1), DeliveryFixture.operation(2)]
            #expect(await client.send(body: body(operations)) == .accepted(status: 200))
            #expect(server.accepted.map(\.bytes) == operations.map(\.bytes))
            #expect(server.accepted[0]["identifiers"]?["id"] == .string("1"))
            let expectedAuth =
                "Basic " + Data("\(DeliveryFixture.siteID):\(DeliveryFixture.apiKey)".utf8).base64EncodedString()
            #expect(server.lastHeaders["Authorization"] == expectedAuth)
            #expect(server.lastHeaders["Content-Type"] == "application/json")
            #expect(server.lastHeaders["User-Agent"] == "tailtrack/\(TrackClient.agentVersion)")
        }
    }

    @Test func invalidOperationsComeBackAs207Items() async throws {
        try await withClient { client, server in
            let operations = [DeliveryFixture.operation(1), DeliveryFixture.invalidOperation(2)]
            let outcome = await client.send(body: body(operations))
            #expect(
                outcome
                    == .partiallyRejected(
                        status: 207,
                        [
                            TrackItemError(
                                batchIndex: 1,
                                reason: "invalid",
                                field: "identifiers",
                                message: "identifiers are required"
                            )
                        ])
            )
            #expect(server.accepted.count == 1)
        }
    }

    @Test func wrongKeyIsUnauthorized() async throws {
        try await withClient(key: "wrong") { client, server in
            guard case .unauthorized(let error) = await client.send(body: body([DeliveryFixture.operation(1)])) else {
                Issue.record("expected unauthorized")
                return
            }
            #expect(error.status == 401)
            #expect(server.accepted.isEmpty)
        }
    }

    @Test func scriptedStatusesAreClassified() async throws {
        try await withClient { client, server in
            let request = body([DeliveryFixture.operation(1)])
            server.script(
                .status(400), .status(413), .status(500), .status(429, retryAfter: "1"), .dropConnection, .status(302))
            guard case .badRequest(let bad) = await client.send(body: request) else {
                Issue.record("400")
                return
            }
            #expect(bad.message == "scripted 400")
            guard case .tooLarge = await client.send(body: request) else {
                Issue.record("413")
                return
            }
            guard case .retryable(let server500, nil) = await client.send(body: request) else {
                Issue.record("500")
                return
            }
            #expect(server500.status == 500)
            guard case .retryable(let limited, .seconds(1)?) = await client.send(body: request) else {
                Issue.record("429")
                return
            }
            #expect(limited.code == .rateLimited)
            guard case .retryable(let dropped, nil) = await client.send(body: request) else {
                Issue.record("drop")
                return
            }
            #expect(dropped.status == nil)
            guard case .misconfigured(let redirect) = await client.send(body: request) else {
                Issue.record("302")
                return
            }
            #expect(redirect.code == .redirected)
            #expect(await client.send(body: request) == .accepted(status: 200))
            #expect(server.requestCount == 7)
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await withClient { client, _ in
            let operations = (0..<20).map { DeliveryFixture.operation($0, size: 30_000) }
            guard case .tooLarge(let error) = await client.send(body: body(operations)) else {
                Issue.record("expected 413")
                return
            }
            #expect(error.status == 413)
        }
    }

    @Test func slowAnswerTimesOut() async throws {
        let server = try await DeliveryFixture.makeServer()
        var settings = DeliveryFixture.trackSettings(url: server.url)
        settings.requestTimeout = .milliseconds(200)
        let client = try TrackClient(settings: settings, logger: DeliveryFixture.logger)
        // Far longer than the timeout: a machine that stalls the process for a second or two
        // (a loaded CI runner) must not let the answer arrive first. Shutting the server down
        // cancels the delayed answer.
        server.script(.delay(.seconds(60), then: .status(200)))
        let outcome = await client.send(body: body([DeliveryFixture.operation(1)]))
        await client.shutdown()
        try await server.shutdown()
        guard case .retryable(let error, nil) = outcome else {
            Issue.record("expected a timeout, got \(outcome)")
            return
        }
        #expect(error.code == .timeout)
    }

    @Test func missingCredentialsAreRefusedAtInit() {
        #expect(throws: DeliveryError.self) {
            _ = try TrackClient(settings: TrackSettings(url: "http://127.0.0.1:1"), logger: DeliveryFixture.logger)
        }
    }
}
