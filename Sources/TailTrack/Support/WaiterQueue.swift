import Synchronization

/// Tasks suspended until their owner's state changes: room in a queue, the end of a probe,
/// the owner going idle. The owner (an actor) calls ``resumeAll()`` whenever what they wait
/// for may have come true; each woken task checks its condition again and waits anew if it
/// has not, so a wake-up too many is harmless and none is ever lost.
///
/// One helper instead of a hand-rolled list of continuations per condition, each with its own
/// cancellation handling: a task cancelled while waiting is resumed at once (only that task),
/// and a task already cancelled does not suspend at all.
final class WaiterQueue: Sendable {
    private struct State {
        var nextID: UInt64 = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    init() {}

    /// No task is waiting.
    var isEmpty: Bool {
        state.withLock { $0.waiters.isEmpty }
    }

    /// The tasks waiting.
    var count: Int {
        state.withLock { $0.waiters.count }
    }

    /// Suspends until ``resumeAll()`` is called or the task is cancelled.
    ///
    /// Call it from the actor that calls ``resumeAll()`` (the default `isolation`): the
    /// caller is then queued before that actor runs anything else, so a wake-up that follows
    /// the caller's check of its condition cannot be missed.
    func wait(isolation: isolated (any Actor)? = #isolation) async {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Checked under the lock: a cancellation either is seen here, or its handler
                // runs after the append and finds the waiter.
                let queued = state.withLock { state in
                    guard !Task.isCancelled else { return false }
                    state.waiters.append((id, continuation))
                    return true
                }
                if !queued { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0).continuation }
            }
            continuation?.resume()
        }
    }

    /// Resumes every waiting task.
    func resumeAll() {
        let waiters = state.withLock { state in
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume() }
    }
}
