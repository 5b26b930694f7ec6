import Testing
import TrackTestServer

@testable import TailTrack

/// Grouping: variable tokens never split a template, differing words do, memory stays
/// bounded by the template cap, and structured lines group by keys and event values.
@Suite struct TemplateMinerTests {
    private func ids(_ lines: [String], limits: TemplateMiner.Limits = TemplateMiner.Limits()) -> (
        [Int], TemplateMiner
    ) {
        let miner = TemplateMiner(limits: limits)
        for line in lines {
            var copy = line
            _ = copy.withUTF8 { miner.add(UnsafeRawBufferPointer($0)) }
        }
        let assigned = lines.map { line -> Int in
            var copy = line
            return copy.withUTF8 { miner.assign(UnsafeRawBufferPointer($0)) }
        }
        return (assigned, miner)
    }

    @Test func valuesDoNotSplitAndWordsDo() {
        let (assigned, miner) = ids([
            "2026-01-01 10:00:00 INFO [main] app.Jobs: job 17 finished in 250ms",
            "2026-01-01 10:00:01 WARN [pool-2 thread 7] app.Jobs: job 18 finished in 1.5s",
            "2026-01-01 10:00:02 INFO [main] app.Jobs: job 19 started by ada@example.com",
            "2026-01-01 10:00:03 INFO [main] app.Jobs: job 20 started by bob@example.com",
            "2026-01-01 10:00:04 INFO [main] app.Jobs: queue drained",
        ])
        #expect(assigned == [1, 1, 2, 2, 3])
        #expect(miner.templates.map(\.count) == [2, 2, 1])
    }

    @Test func differingWordsMergeWhenMostWordsAgree() {
        let (assigned, miner) = ids([
            "user alice opened the billing settings page",
            "user bob opened the billing settings page",
            "user carol closed the billing settings page",
        ])
        #expect(assigned == [1, 1, 1])
        #expect(miner.templates.count == 1)
    }

    @Test func theTemplateCapBoundsMemory() {
        let lines =
            (0..<500).map { "event kind\(String(repeating: "x", count: $0 % 50 + 1)) happened" }
            + (0..<500).map { "word\(String(repeating: "y", count: $0 % 50 + 1)) stands alone" }
        let (assigned, miner) = ids(lines, limits: TemplateMiner.Limits(templates: 10, signatures: 20))
        #expect(miner.templates.count <= 12)
        #expect(assigned.allSatisfy { $0 >= 1 && $0 <= miner.templates.count })
        #expect(miner.templates.map(\.count).reduce(0, +) == 1000)
    }

    @Test func jsonAndLogfmtGroupByKeysAndEventValues() {
        let (assigned, _) = ids([
            #"{"ts":"2026-01-01T10:00:00Z","level":"info","msg":"user logged in","user":"42"}"#,
            #"{"ts":"2026-01-01T10:00:01Z","level":"info","msg":"user logged in","user":"43"}"#,
            #"{"ts":"2026-01-01T10:00:02Z","level":"info","msg":"order placed","user":"42"}"#,
            #"time=2026-01-01T10:00:00Z level=info msg="export done" rows=5"#,
            #"time=2026-01-01T10:00:00Z level=info msg="export done" rows=7"#,
            #"time=2026-01-01T10:00:00Z level=info msg="export 7 of 9 done" rows=7"#,
            #"time=2026-01-01T10:00:00Z level=info msg="export 8 of 9 done" rows=7"#,
        ])
        #expect(assigned == [1, 1, 2, 3, 3, 4, 4])
    }

    @Test func loghubFixturesGroupAsTheirGroundTruth() {
        for fixture in [LoghubFixtures.apache, LoghubFixtures.hadoop] {
            let (assigned, _) = ids(fixture.map(\.line))
            let accuracy = DiscoverAccuracy.grouping(truth: fixture.map(\.truth), predicted: assigned.map(String.init))
            #expect(accuracy >= 0.9)
        }
    }
}
