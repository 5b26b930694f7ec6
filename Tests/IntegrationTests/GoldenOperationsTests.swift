import Foundation
import Testing

/// Event ids are a promise: the operations (ids included) that `dry-run` prints for the
/// bundled samples, a rotated copy and a gzip copy stay byte-identical across releases.
@Suite struct GoldenOperationsTests {
    static let fixtures = CLIRun.packageRoot + "/Tests/IntegrationTests/Fixtures/golden"
    static let config = CLIRun.packageRoot + "/examples/tailtrack.yml"
    static let samples = ["nginx-access.log", "app.json.log", "worker.logfmt.log"].map {
        CLIRun.packageRoot + "/rules/samples/" + $0
    }

    static func dryRun(_ arguments: [String]) throws -> String {
        let result = try CLIRun.tailtrack(["dry-run", "--config", config] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    static func golden(_ name: String) throws -> String {
        try String(contentsOfFile: fixtures + "/" + name, encoding: .utf8)
    }

    /// `id` of each operation line, in order.
    static func ids(_ output: String) throws -> [String] {
        try output.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["id"] as? String ?? ""
        }
    }

    @Test func theBundledSamplesGiveTheSameOperations() throws {
        #expect(try Self.dryRun(Self.samples) == Self.golden("samples.jsonl"))
    }

    @Test func aRotatedCopyGivesTheSameOperations() throws {
        let output = try Self.dryRun(["--source", "nginx", Self.fixtures + "/nginx-access.log.1"])
        #expect(output == (try Self.golden("nginx-rotated.jsonl")))
        // The rotated copy's lines keep the ids they had in the live file.
        let live = try Self.ids(Self.dryRun(["--source", "nginx", Self.samples[0]]))
        let rotated = try Self.ids(output)
        #expect(!rotated.isEmpty && Array(live.prefix(rotated.count)) == rotated)
    }

    @Test func aGzipCopyGivesTheSameOperations() throws {
        let output = try Self.dryRun(["--source", "app", Self.fixtures + "/app.json.log.2.gz"])
        #expect(output == (try Self.golden("app-gz.jsonl")))
        let live = try Self.ids(Self.dryRun(["--source", "app", Self.samples[1]]))
        let compressed = try Self.ids(output)
        #expect(!compressed.isEmpty && Array(live.prefix(compressed.count)) == compressed)
    }
}
