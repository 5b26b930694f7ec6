import Testing

@testable import TailTrack

/// Waiting tasks are resumed all together, and a cancelled one at once.
@Suite struct WaiterQueueTests {
    /// An actor that owns a queue, as the batcher does.
    actor Gate {
        let waiters = WaiterQueue()
        var open = false
        private(set) var passed = 0

        /// Returns once the gate is open; `false` when cancelled first.
        func pass() async -> Bool {
            while !open {
                if Task.isCancelled { return false }
                await waiters.wait()
            }
            passed += 1
            return true
        }

        func openGate() {
            open = true
            waiters.resumeAll()
        }

        var waiting: Int { waiters.count }
    }

    @Test func resumeAllWakesEveryWaiter() async {
        let gate = Gate()
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<3 { group.addTask { await gate.pass() } }
            while await gate.waiting < 3 { await Task.yield() }
            await gate.openGate()
            for await passed in group { #expect(passed) }
        }
        #expect(await gate.passed == 3)
        #expect(await gate.waiting == 0)
    }

    @Test func aCancelledWaiterReturnsAndTheOthersStay() async {
        let gate = Gate()
        let cancelled = Task { await gate.pass() }
        let staying = Task { await gate.pass() }
        while await gate.waiting < 2 { await Task.yield() }
        cancelled.cancel()
        #expect(await cancelled.value == false)
        #expect(await gate.waiting == 1)
        await gate.openGate()
        #expect(await staying.value)
    }

    @Test func anAlreadyCancelledTaskDoesNotSuspend() async {
        let queue = WaiterQueue()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await queue.wait()
            return queue.isEmpty
        }
        #expect(await task.value)
    }
}
