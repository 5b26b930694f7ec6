import Foundation
import Testing

/// Archived logs named directly in `paths:` (`archive/*.log.gz`, `start_at: beginning`), as
/// one backfills them: `run` reads them decompressed from their start, as finished files
/// (judged by their gzip magic bytes, whatever their name), with the ids `dry-run` gives the
/// same lines; `status` shows the uncompressed offset, and a restart sends nothing again.
@Suite(.serialized)
struct GzipPathTests {
    @Test func archivesNamedInPathsAreReadDecompressed() throws {
        let scenario = try Scenario("gzpath")
        defer { scenario.cleanUp() }
        let archive = scenario.logs + "/archive"
        try FileManager.default.createDirectory(atPath: archive, withIntermediateDirectories: true)
        // Two archives: one named .gz, one gzip named like a plain log.
        let plainA = scenario.logs + "/a.log"
        let plainB = scenario.logs + "/b.log"
        try scenario.writer.append(3000, to: plainA)
        try scenario.writer.append(2000, to: plainB)
        let archiveA = archive + "/a.log.gz"
        let archiveB = archive + "/b-2026.log"
        try Data(gzip(Data(contentsOf: URL(fileURLWithPath: plainA)))).write(to: URL(fileURLWithPath: archiveA))
        try Data(gzip(Data(contentsOf: URL(fileURLWithPath: plainB)))).write(to: URL(fileURLWithPath: archiveB))
        try scenario.environment.writeConfig(paths: [archive + "/*.log.gz", archive + "/*-2026.log"])

        try scenario.daemon.start()
        scenario.waitForDelivery()
        // Released once acknowledged; let the last positions be saved, then stop.
        usleep(500_000)
        #expect(scenario.daemon.terminate() == 0)
        let first = scenario.delivered
        #expect(first.missing(scenario.writer.written) == [])
        #expect(first.unexpected(scenario.writer.written) == [])
        #expect(first.duplicated == [], "lines delivered twice")
        #expect(first.lines == scenario.writer.written.count)
        // The ids dry-run gives the same (uncompressed) lines: same content, same offsets.
        #expect(try dryRunIDs(scenario, plainA).merging(dryRunIDs(scenario, plainB)) { $0.union($1) } == first.ids)

        // status: the uncompressed offset, nothing behind that a compressed size could tell.
        let status = try CLIRun.tailtrack(["status", "--config", scenario.environment.configPath])
        #expect(status.status == 0)
        for (path, plain) in [(archiveA, plainA), (archiveB, plainB)] {
            let length = try FileManager.default.attributesOfItem(atPath: plain)[.size] as? Int
            let row = status.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
                .first { $0.count > 1 && $0[1] == path }
            #expect(row?[3] == length.map { "\($0)" }, "status:\n\(status.stdout)")
            #expect(row?[5] == "-")
            #expect(row?[6] == "present")
        }

        // A restart sends nothing again.
        try scenario.daemon.start()
        usleep(1_500_000)
        #expect(scenario.daemon.terminate() == 0)
        #expect(scenario.delivered.lines == first.lines, "lines sent again after a restart")
    }

    /// The operations `dry-run` prints for `path`, by sequence number.
    private func dryRunIDs(_ scenario: Scenario, _ path: String) throws -> [Int: Set<String>] {
        let result = try CLIRun.tailtrack(["dry-run", "--config", scenario.environment.configPath, path])
        #expect(result.status == 0)
        let printed = scenario.environment.root + "/dry-run.jsonl"
        try result.stdout.write(toFile: printed, atomically: true, encoding: .utf8)
        return DeliveredOutput(path: printed).ids
    }
}
