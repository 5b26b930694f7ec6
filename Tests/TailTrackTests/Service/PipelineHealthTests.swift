import Testing

@testable import TailTrack

@Suite struct PipelineHealthTests {
    private let start = ContinuousClock.now

    private func snapshot(
        lines: Int = 0, sent: Int = 0, requests: Int = 0, queue: Int = 0, behind: UInt64 = 0, files: Int = 1
    ) -> PipelineSnapshot {
        var delivery = DeliveryStats()
        delivery.operationsSent = sent
        delivery.requests = requests
        delivery.queueBytes = queue
        let file = TailedFileStatus(
            source: "app", path: "/var/log/app.log", identity: FileIdentity(device: 1, inode: 2, fingerprint: nil),
            committedOffset: 0, size: behind, bytesBehind: behind, state: "live")
        return PipelineSnapshot(
            rules: RuleStageStats(sources: ["app": .init(lines: lines, bytes: lines * 10)]), delivery: delivery,
            files: TailedFilesSummary(Array(repeating: file, count: files)))
    }

    private func health(unhealthyAfter: Duration = .seconds(300)) -> PipelineHealth {
        PipelineHealth(unhealthyAfter: unhealthyAfter, longestQuietDelivery: .seconds(90), queueCapacity: 1_000)
    }

    @Test func progressAndIdleKeepTheWatchdogFed() {
        var health = health()
        health.record(snapshot(), at: start, wallTime: 1_000)
        #expect(health.liveness == .idle)
        health.record(snapshot(lines: 200, sent: 10, requests: 1), at: start + .seconds(2), wallTime: 1_002)
        #expect(health.liveness == .progressing)
        #expect(health.linesPerSecond == 100)
        #expect(health.lastSuccess == 1_002)
        health.record(snapshot(lines: 200, sent: 10, requests: 1), at: start + .seconds(3), wallTime: 1_003)
        #expect(health.liveness == .idle)
        #expect(health.statusLine(wallTime: 1_005) == "Following 1 file; 0 lines/s; queue 0 B; last delivery 3 s ago")
    }

    @Test func filesGrowingWhileNothingIsReadStopTheWatchdog() {
        var health = health()
        health.record(snapshot(lines: 5), at: start, wallTime: 0)
        for step in 1...PipelineHealth.stalledReadingSnapshots {
            #expect(health.liveness.isAlive)
            health.record(snapshot(lines: 5, behind: UInt64(step * 100)), at: start + .seconds(step), wallTime: 0)
        }
        #expect(health.liveness == .readingStalled)
        #expect(
            health.statusLine(wallTime: 0)
                == "Following 1 file; 0 lines/s; queue 0 B; no delivery yet; reading stalled")
        health.record(snapshot(lines: 6, behind: 400), at: start + .seconds(10), wallTime: 0)
        #expect(health.liveness == .progressing)
    }

    @Test func aFullQueueIsBackpressureNotAStall() {
        var health = health()
        health.record(snapshot(lines: 5, requests: 1, queue: 1_000), at: start, wallTime: 0)
        for step in 1...5 {
            health.record(
                snapshot(lines: 5, requests: 1, queue: 1_000, behind: UInt64(step * 100)),
                at: start + .seconds(step), wallTime: 0)
        }
        #expect(health.liveness == .waitingForDelivery)
    }

    @Test func operationsWaitingLongerThanAnyBackoffWithoutARequestStopTheWatchdog() {
        var health = health()
        health.record(snapshot(requests: 3, queue: 50), at: start, wallTime: 0)
        health.record(snapshot(requests: 3, queue: 50), at: start + .seconds(60), wallTime: 0)
        #expect(health.liveness == .waitingForDelivery)
        health.record(snapshot(requests: 3, queue: 50), at: start + .seconds(91), wallTime: 0)
        #expect(health.liveness == .deliveryStalled)
    }

    @Test func turnsUnhealthyWhenNothingIsDeliveredForTooLongAndRecovers() {
        var health = health(unhealthyAfter: .seconds(10))
        health.record(snapshot(sent: 1, requests: 1), at: start, wallTime: 0)
        health.record(snapshot(sent: 1, requests: 2, queue: 80), at: start + .seconds(1), wallTime: 0)
        health.record(snapshot(sent: 1, requests: 9, queue: 80), at: start + .seconds(8), wallTime: 0)
        #expect(health.unhealthyReason(at: start + .seconds(8)) == nil)
        health.record(snapshot(sent: 1, requests: 12, queue: 80), at: start + .seconds(12), wallTime: 0)
        #expect(
            health.unhealthyReason(at: start + .seconds(12))
                == "no operation delivered for 12 s while operations are queued")
        health.record(snapshot(sent: 5, requests: 13, queue: 0), at: start + .seconds(13), wallTime: 0)
        #expect(health.unhealthyReason(at: start + .seconds(13)) == nil)
    }

    @Test func showsQueueSizesReadably() {
        #expect(PipelineHealth.bytes(999) == "999 B")
        #expect(PipelineHealth.bytes(12_345) == "12 KB")
        #expect(PipelineHealth.bytes(3_456_789) == "3.4 MB")
    }
}
