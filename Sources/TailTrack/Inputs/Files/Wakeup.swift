import Synchronization

/// Wakes the tailer's loop early: a watched directory changed, the queue of read chunks has
/// room again, or an acknowledgement arrived (positions to save, a rotated file to release).
///
/// Signals do not pile up: any number of them before the next ``wait(upTo:)`` make it return
/// at once, one time.
final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var scanRequested = false
        var written = Set<String>()
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
        /// When the wait in progress ends at the latest (`nil` between waits).
        var deadline: ContinuousClock.Instant?
        /// When the timers that are running fire (one or two at a time).
        var timers: [ContinuousClock.Instant] = []
    }

    private let state = Mutex(State())

    /// Wakes the loop; with `scan`, the next step also re-scans (something in a watched
    /// directory changed); `written` names files written to, which the next step looks at.
    func signal(scan: Bool = false, written: Set<String> = []) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if scan { state.scanRequested = true }
            if !written.isEmpty {
                if state.written.count + written.count > DirectoryChange.maximumNamed {
                    state.scanRequested = true
                    state.written = []
                } else if state.written.isEmpty {
                    state.written = written
                } else {
                    state.written.formUnion(written)
                }
            }
            state.signalled = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Whether a scan was requested since the last call, and the files written to.
    func takeChanges() -> (scan: Bool, written: Set<String>) {
        state.withLock { state in
            defer {
                state.scanRequested = false
                state.written = []
            }
            return (state.scanRequested, state.written)
        }
    }

    /// Returns after a ``signal(scan:)`` (at once if one came since the last wait), after
    /// `timeout`, or when the task is cancelled.
    ///
    /// The timeout needs no timer of its own when one already running fires before it: the
    /// tailer waits thousands of times a minute, and most waits end early by a signal. A
    /// sleep cancelled at each of those would keep its task allocated until its deadline
    /// (2.2 MB of 60-second sleeps, seen with heaptrack under a stalled endpoint).
    func wait(upTo timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        let started = state.withLock { state -> (generation: Int, armsTimer: Bool)? in
            if state.signalled {
                state.signalled = false
                return nil
            }
            state.generation += 1
            state.deadline = deadline
            let covered = state.timers.contains { $0 <= deadline }
            if !covered { state.timers.append(deadline) }
            return (state.generation, !covered)
        }
        guard let started else { return }
        if started.armsTimer { startTimer(firingAt: deadline) }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.signalled || state.generation != started.generation { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.release(started.generation)
        }
        state.withLock { state in
            state.signalled = false
            // Over: a timer firing before the next wait has nothing to end or re-arm for.
            if state.deadline == deadline { state.deadline = nil }
        }
    }

    /// Timers running now (for tests: they stay few however many waits end early).
    var runningTimers: Int { state.withLock { $0.timers.count } }

    private func startTimer(firingAt deadline: ContinuousClock.Instant) {
        Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            self?.timerFired(deadline)
        }
    }

    /// Ends the current wait if its deadline has come; otherwise makes sure a timer fires at it.
    private func timerFired(_ fired: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        var rearm: ContinuousClock.Instant?
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let index = state.timers.firstIndex(of: fired) { state.timers.remove(at: index) }
            guard let deadline = state.deadline else { return nil }
            if deadline <= now {
                state.deadline = nil
                state.generation += 1
                defer { state.waiter = nil }
                return state.waiter
            }
            if !state.timers.contains(where: { $0 <= deadline }) {
                state.timers.append(deadline)
                rearm = deadline
            }
            return nil
        }
        waiter?.resume()
        if let rearm { startTimer(firingAt: rearm) }
    }

    /// Ends the wait of `generation` (its task was cancelled).
    private func release(_ generation: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.generation == generation else { return nil }
            state.generation += 1
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
