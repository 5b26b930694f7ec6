import Foundation
import Glibc
import Testing
import TrackTestServer

extension DeliveryIntegrationTests {
    /// A large backlog is read with memory bounded by the pipeline's queues, not by its size.
    @Suite struct DeliveryBacklogTests {
        /// 1 GiB already written when the agent starts (`start_at: beginning`): 256 blocks of
        /// 4 MiB of lines no rule takes, each followed by one numbered line. Every numbered line
        /// arrives, and the agent's peak RSS stays under a fixed bound far below the backlog.
        ///
        /// The bound, 64 MB (48.5 MB measured), is for the debug build the tests run (the release agent stays under
        /// 32 MB; see `tailtrack bench`): what is held is the tailer's 1 MiB queue, one chunk of
        /// at most 1 MiB being matched, one 256 KB read buffer and the delivery queue.
        @Test func oneGigabyteBacklogIsReadWithBoundedMemory() async throws {
            let workspace = try TrackWorkspace()
            defer { workspace.remove() }
            let endpoint = TrackEndpoint()
            try await endpoint.comeUp()
            try workspace.writeConfig(url: endpoint.url)
            let blocks = 256
            try writeBacklog(to: workspace.logPath, blocks: blocks)
            let agent = try workspace.startAgent(0)
            defer { agent.stop() }
            var peak = 0
            let arrived = await trackEventually(timeout: .seconds(300)) {
                peak = max(peak, agent.peakResidentKilobytes() ?? 0)
                return endpoint.lines.missing(0..<blocks).isEmpty
            }
            peak = max(peak, agent.peakResidentKilobytes() ?? 0)
            #expect(arrived, "numbered lines missing: \(ranges(endpoint.lines.missing(0..<blocks)))")
            #expect(peak > 0 && peak <= 64 * 1024, "peak RSS \(peak) kB while reading a 1 GiB backlog")
            #expect(agent.poll() == nil, "the agent stopped: \(agent.output())")
            agent.signal(SIGTERM)
            #expect(await agent.waitForExit(timeout: .seconds(30)) == .exited(0))
            try await endpoint.goDown()
        }

        /// Writes `blocks` × (4 MiB of 100-byte filler lines + `seq=N` line).
        private func writeBacklog(to path: String, blocks: Int) throws {
            let filler = Array(String(repeating: "x", count: 92).utf8)
            var block: [UInt8] = []
            block.reserveCapacity(4 << 20)
            while block.count + 100 <= 4 << 20 {
                block += Array("filler ".utf8) + filler + [UInt8(ascii: "\n")]
            }
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw IntegrationFailure("cannot create \(path)") }
            defer { close(fd) }
            for seq in 0..<blocks {
                let numbered = Array("seq=\(seq) numbered line of the backlog\n".utf8)
                for part in [block, numbered] {
                    let written = part.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    guard written == part.count else { throw IntegrationFailure("short write to \(path)") }
                }
            }
        }
    }
}
