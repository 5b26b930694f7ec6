import Foundation
import Logging
import Testing

@testable import TailTrack

/// The benchmark's generator, sink and stage loops on small data (no timing asserted).
@Suite struct BenchTests {
    private func withDirectory(_ body: (String) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { withExtendedLifetime(directory) {} }
        try await body(directory.path)
    }

    private func ruleSet(in directory: String) throws -> RuleSet {
        let path = directory + "/bench.yml"
        try BenchWorkload(directory: directory).configYAML(source: "plain", url: "http://127.0.0.1:1")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let report = ConfigCheck.load(path: path, environment: [:], requireCredentials: true)
        #expect(report.problems == [])
        return try #require(report.ruleSet)
    }

    @Test func generatorWritesFixedLengthLinesWithTheRequestedShareMatching() async throws {
        try await withDirectory { directory in
            let generator = BenchLogGenerator(lines: 1000, lineBytes: 100, matchRatio: 0.25)
            try generator.write(plainPath: directory + "/app.log", gzipPath: directory + "/app.log.gz")
            let text = try String(contentsOfFile: directory + "/app.log", encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(text.utf8.count == 100_000)
            #expect(lines.count == 1000)
            #expect(lines.allSatisfy { $0.utf8.count == 99 })
            #expect(lines.filter { $0.contains("checkout completed") }.count == 250)
            #expect(generator.matchingLines == 250)
            #expect(
                lines[3]
                    == "2026-11-22T10:00:00Z INFO checkout completed user_id=0000003 email=u0000003@ex.io amount=3.03 p=abc"
            )

            let reader = try GzipFileReader(path: directory + "/app.log.gz")
            var unzipped: [UInt8] = []
            while case .bytes = try reader.read(maxBytes: 65_536, { unzipped += $0 }) {}
            #expect(unzipped == Array(text.utf8))
        }
    }

    @Test func everyMatchingLineBecomesOneOperation() async throws {
        try await withDirectory { directory in
            let generator = BenchLogGenerator(lines: 2000, lineBytes: 120, matchRatio: 0.25)
            try generator.write(plainPath: directory + "/app.log", gzipPath: directory + "/app.log.gz")
            let stages = StageBenchmark(ruleSet: try ruleSet(in: directory), source: "plain", maxLineBytes: 65_536)
            let timings = try stages.runPlain(path: directory + "/app.log")
            #expect(timings.map(\.name) == ["read+split", "match", "match+encode"])
            #expect(timings.map(\.lines) == [2000, 2000, 2000])
            #expect(timings.map(\.bytes) == [240_000, 240_000, 240_000])
            #expect(timings.map(\.operations) == [0, 500, 500])
            let gzip = try stages.runGzip(path: directory + "/app.log.gz")
            #expect(gzip.lines == 2000)
            #expect(gzip.bytes == 240_000)
        }
    }

    @Test func operationCounterSkipsBracesInsideStrings() {
        var counter = BatchOperationCounter()
        let body = #"{"batch":[{"a":"{x}[","b":{"c":[{}]}},{"d":"\"{"},{}]}"#
        let bytes = Array(body.utf8)
        bytes.withUnsafeBytes { buffer in
            // Fed in two pieces that split a string, as a body arrives in parts.
            counter.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<17]))
            counter.feed(UnsafeRawBufferPointer(rebasing: buffer[17...]))
        }
        #expect(counter.operations == 3)
    }

    /// Bodies with long strings, escaped quotes and backslashes on either side of 8-byte
    /// boundaries, fed in two pieces split at several places, count what they hold.
    @Test func operationCounterIsExactWhereverAStringOrAPieceEnds() {
        let values = [
            #"plain"#, #"with \"quote\" inside {not} [counted]"#, #"ends in backslash \\"#, #"\\\""#,
            String(repeating: "x", count: 23) + #"\"{"#, "", #"ünïcödé \u00e9"#,
        ]
        for shift in 0..<8 {
            var operations: [String] = []
            for (index, value) in values.enumerated() {
                let padding = String(repeating: "p", count: (index + shift) % 9)
                operations.append(#"{"k\#(padding)":"\#(value)","n":{"a":[{"b":"}"}]}}"#)
            }
            let body = Array((#"{"batch":["# + operations.joined(separator: ",") + "]}").utf8)
            for split in [0, 1, body.count / 3, body.count / 2, body.count - 1] {
                var counter = BatchOperationCounter()
                body.withUnsafeBytes { buffer in
                    counter.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<split]))
                    counter.feed(UnsafeRawBufferPointer(rebasing: buffer[split...]))
                }
                #expect(counter.operations == values.count, "shift \(shift), split at \(split)")
            }
        }
    }

    @Test func sinkCountsOperationsPostedOverHTTP() async throws {
        let sink = BenchSink()
        try await sink.start()
        let client = try TrackClient(
            settings: TrackSettings(url: sink.url, siteID: "s", apiKey: Secret("k")),
            logger: .init(label: "bench.tests") { _ in SwiftLogNoOpLogHandler() })
        sink.reset(expecting: 5)
        let first = await client.send(body: Array(#"{"batch":[{"a":1},{"b":"}"},{"c":{"d":2}}]}"#.utf8))
        #expect(sink.reachedAt == nil)
        let second = await client.send(body: Array(#"{"batch":[{"a":1},{"b":2}]}"#.utf8))
        #expect(first == .accepted(status: 200))
        #expect(second == .accepted(status: 200))
        #expect(sink.counts == BenchSink.Counts(requests: 2, operations: 5, bodyBytes: 70, otherRequests: 0))
        #expect(sink.reachedAt != nil)
        await client.shutdown()
        try await sink.shutdown()
    }
}
