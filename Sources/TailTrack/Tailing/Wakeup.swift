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
    func wait(upTo timeout: Duration) async {
        let generation = state.withLock { state -> Int? in
            if state.signalled {
                state.signalled = false
                return nil
            }
            state.generation += 1
            return state.generation
        }
        guard let generation else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.release(generation)
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.signalled || state.generation != generation { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.release(generation)
            }
            group.cancelAll()
        }
        state.withLock { $0.signalled = false }
    }

    /// Ends the wait of `generation` (its timeout passed or its task was cancelled).
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
