import Foundation
import Testing

/// `tailtrack bench --json`, run as the built binary on a small workload: outside checks read
/// this report, so every pass must be there and must add up.
@Suite struct BenchCommandTests {
    @Test func jsonReportHasEveryPassAndEveryOperationArrives() throws {
        let directory = try TemporaryDirectory()
        let result = try CLIRun.tailtrack([
            "bench", "--lines", "4000", "--idle-files", "5", "--idle-seconds", "1", "--many-files", "40",
            "--active-files", "4", "--many-seconds", "1", "--stalled-seconds", "2", "--stalled-mb-per-second", "1",
            "--directory", directory.file("work"), "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")

        let workload = try #require(report["workload"] as? [String: Any])
        #expect(workload["lines"] as? Int == 4000)
        #expect(workload["expectedOperations"] as? Int == 1000)
        let stages = (report["stages"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(stages == ["read+split", "match", "encode (derived)", "match+encode", "gunzip+split"])
        let baselines = (report["baselines"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(baselines == ["wc -l", "grep -c", "gzip -dc"])

        let endToEnd = report["end_to_end"] as? [[String: Any]] ?? []
        #expect(endToEnd.compactMap { $0["name"] as? String } == ["plain", "gz"])
        for run in endToEnd {
            #expect(run["operations"] as? Int == 1000, "\(run)")
            #expect((run["peak_rss_bytes"] as? Int ?? 0) > 0, "\(run)")
        }
        // The debug build the tests run maps the Swift runtime's shared library.
        #expect(report["agent_swift_runtime"] as? String == "dynamic", "\(report)")

        let idle = try #require(report["idle"] as? [String: Any])
        #expect(idle["files"] as? Int == 5)
        let many = try #require(report["many_files"] as? [String: Any])
        #expect(many["files"] as? Int == 40)
        #expect(many["active"] as? Int == 4)
        let written = try #require(many["lines_written"] as? Int)
        #expect(written == 4 * 10, "10 rounds (10 a second for 1 s) of 4 lines: \(many)")
        #expect(many["operations_delivered"] as? Int == written, "\(many)")
        #expect((many["cpu_percent"] as? Double).map { $0 >= 0 } == true)

        // 2 s at 1 MB/s: 40 appends (20 a second) of 500 lines of 100 bytes; a quarter match.
        let stalled = try #require(report["stalled"] as? [String: Any])
        #expect(stalled["lines_written"] as? Int == 20_000, "\(stalled)")
        #expect(stalled["bytes_written"] as? Int == 2_000_000, "\(stalled)")
        #expect(stalled["operations_expected"] as? Int == 5_000, "\(stalled)")
        // Nothing was answered during the stall, then each operation arrived once.
        #expect(stalled["operations_delivered"] as? Int == 5_000, "\(stalled)")
        #expect((stalled["unanswered_requests"] as? Int ?? 0) >= 1, "\(stalled)")
        #expect((stalled["peak_rss_bytes"] as? Int ?? 0) > 0, "\(stalled)")
        #expect((stalled["second_half_rss_bytes"] as? Int ?? 0) > 0, "\(stalled)")
    }
}
