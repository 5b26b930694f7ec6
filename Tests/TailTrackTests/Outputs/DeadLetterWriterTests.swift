import Foundation
import Testing

@testable import TailTrack

@Suite struct DeadLetterWriterTests {
    let time = Date(timeIntervalSince1970: 1_763_805_600)  // 2025-11-22T10:00:00Z

    private func letter(_ n: Int, operation: String = #"{"type":"person"}"#) -> DeadLetter {
        DeadLetter(
            time: time,
            rule: "purchase",
            source: "app",
            file: "/var/log/app.log",
            offset: UInt64(n),
            reason: "event name is 131 bytes; Track allows 100",
            operation: Array(operation.utf8)
        )
    }

    @Test func writesOneLinePerOperation() throws {
        let directory = try TemporaryDirectory()
        let writer = DeadLetterWriter(stateDirectory: directory.path + "/state", settings: DeadLetterSettings())
        try writer.write([letter(7), letter(8, operation: "")])
        #expect(
            directory.lines("state/dead-letter.jsonl") == [
                #"{"time":"2025-11-22T10:00:00.000Z","rule":"purchase","source":"app","file":"/var/log/app.log","offset":7,"reason":"event name is 131 bytes; Track allows 100","operation":{"type":"person"}}"#,
                #"{"time":"2025-11-22T10:00:00.000Z","rule":"purchase","source":"app","file":"/var/log/app.log","offset":8,"reason":"event name is 131 bytes; Track allows 100","operation":null}"#,
            ]
        )
    }

    @Test func aLineReadsBackToTheSameLetter() {
        let original = letter(3, operation: #"{"type":"person","name":"a,\"operation\":x"}"#)
        #expect(DeadLetter(jsonLine: original.jsonLine()) == original)
    }

    @Test func rotatesAtMaxBytesKeepingOldFiles() throws {
        let directory = try TemporaryDirectory()
        let lineLength = letter(0).jsonLine().count + 1
        let writer = DeadLetterWriter(
            stateDirectory: directory.path,
            settings: DeadLetterSettings(maxBytes: lineLength * 2, keep: 2)
        )
        for n in 1...7 { try writer.write([letter(n)]) }
        func offsets(_ name: String) -> [UInt64] {
            directory.lines(name).compactMap { DeadLetter(jsonLine: Array($0.utf8))?.offset }
        }
        #expect(offsets("dead-letter.jsonl") == [7])
        #expect(offsets("dead-letter.jsonl.1") == [5, 6])
        #expect(offsets("dead-letter.jsonl.2") == [3, 4])
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/dead-letter.jsonl.3"))
    }

    /// Nothing the delivery stage prints or writes may contain the API key.
    @Test func noErrorOrDeadLetterContainsTheKey() async throws {
        let key = DeliveryFixture.apiKey
        var rendered: [String] = []
        for code in DeliveryError.Code.allCases {
            rendered.append(DeliveryError(status: 500, code: code, message: "m").description)
        }
        let outcomes = [401, 403, 301, 400, 413, 429, 500, 207].map {
            TrackResponse.classify(status: $0, retryAfter: nil, body: [])
        }
        rendered += outcomes.map { "\($0)" }
        let client = try TrackClient(
            settings: DeliveryFixture.trackSettings(url: "http://127.0.0.1:1"),
            logger: DeliveryFixture.logger
        )
        let refused = await client.send(body: TrackBatchBody.build([DeliveryFixture.operation(1).bytes]))
        await client.shutdown()
        rendered.append("\(refused)")
        rendered.append(String(decoding: letter(1).jsonLine(), as: UTF8.self))
        rendered.append("\(DeliveryFixture.trackSettings(url: "http://x"))")
        let base64 = Data("\(DeliveryFixture.siteID):\(key)".utf8).base64EncodedString()
        for text in rendered {
            #expect(!text.contains(key))
            #expect(!text.contains(base64))
        }
        guard case .retryable(let error, _) = refused else {
            Issue.record("a refused connection is not retryable: \(refused)")
            return
        }
        #expect(error.code == .connection)
    }
}
