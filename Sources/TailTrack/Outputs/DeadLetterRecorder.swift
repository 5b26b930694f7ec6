import Foundation
import Logging

/// The dead-letter step of an output: writes the operations that will never be delivered
/// (rejected by the rules, too large, rejected by the API) to the dead-letter file, retrying
/// while the disk refuses, because their lines must not be acknowledged before they are
/// written.
///
/// Owned by one actor (the ``Batcher``), which it never leaves: ``DeadLetterWriter`` is not
/// thread-safe.
struct DeadLetterRecorder {
    let writer: DeadLetterWriter
    /// The waits between attempts after a failed write.
    let retryPolicy: RetryPolicy
    let clock: DeliveryClock
    let logger: Logger

    /// The current dead-letter file.
    var path: String { writer.path }

    /// Writes `letters` (nothing when empty), retrying while the disk refuses; `false` only
    /// when the task was cancelled before they were written.
    func write(_ letters: [DeadLetter], isolation: isolated (any Actor)? = #isolation) async -> Bool {
        guard !letters.isEmpty else { return true }
        var attempt = 0
        while true {
            do {
                try writer.write(letters)
                logger.notice(
                    "operations dead-lettered",
                    metadata: [DeliveryLogKey.count: "\(letters.count)", DeliveryLogKey.path: "\(writer.path)"]
                )
                return true
            } catch {
                logger.error(
                    "writing dead letters failed; their lines stay unacknowledged until it works",
                    metadata: [DeliveryLogKey.error: "\(error)"]
                )
                do { try await clock.sleep(retryPolicy.delay(attempt: attempt)) } catch { return false }
                attempt += 1
            }
        }
    }
}

extension DeadLetterRecorder {
    /// Splits `chunk` into the operations that can be sent and the dead letters of those that
    /// never can: the ones the rules rejected, and operations over the API's limit or too
    /// large for a body of `maxBytes` (`batch.max_bytes`).
    static func screen(
        _ chunk: OperationChunk, limits: BatchRequestLimits, maxBytes: Int, apiName: String
    ) -> (operations: PackedOperations, letters: [DeadLetter]) {
        var letters = chunk.rejected.map { DeadLetter($0, of: chunk) }
        var operations = chunk.packed
        var tooLarge: [Int: String] = [:]
        for index in 0..<operations.count {
            let size = operations.size(of: index)
            if size > limits.operationBytes {
                tooLarge[index] =
                    "operation is \(size) bytes; \(apiName) accepts at most \(limits.operationBytes) bytes per operation"
            } else if limits.bodySize(operationBytes: size, count: 1) > maxBytes {
                tooLarge[index] =
                    "operation is \(size) bytes; it does not fit in a request of batch.max_bytes \(maxBytes)"
            }
        }
        guard !tooLarge.isEmpty else { return (operations, letters) }
        for index in tooLarge.keys.sorted() {
            letters.append(
                DeadLetter(
                    operation: index, of: operations, source: chunk.source, path: chunk.path,
                    reason: tooLarge[index] ?? ""))
        }
        operations = operations.filter { tooLarge[$0] == nil }
        return (operations, letters)
    }
}

extension DeadLetter {
    /// The dead letter of an operation the rules could not make (`rejected`) from a line of
    /// `chunk`'s file.
    init(_ rejected: RejectedOperation, of chunk: OperationChunk, time: Date = Date()) {
        self.init(
            time: time,
            rule: rejected.rule,
            source: chunk.source,
            file: chunk.path,
            offset: rejected.lineOffset,
            reason: rejected.reason,
            operation: rejected.bytes
        )
    }

    /// The dead letter of operation `index` of `operations`, read from `path` of `source`.
    init(
        operation index: Int, of operations: PackedOperations, source: String, path: String, reason: String,
        time: Date = Date()
    ) {
        self.init(
            time: time,
            rule: operations.rules[index],
            source: source,
            file: path,
            offset: operations.lineOffsets[index],
            reason: reason,
            operation: operations.object(at: index)
        )
    }
}
