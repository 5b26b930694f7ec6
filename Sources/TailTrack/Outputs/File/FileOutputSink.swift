import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `output: { file: PATH }`: appends each operation as one JSON line, fsyncs, then
/// acknowledges. A debugging sink that needs no network; rejected operations still go to the
/// dead-letter file.
public actor FileOutputSink: OperationSink {
    public let path: String
    private let deadLetters: DeadLetterWriter
    private let acknowledge: @Sendable (FileKey, UInt64) async -> Void
    private let logger: Logger
    private var stats = DeliveryStats()

    public init(
        path: String,
        stateDirectory: String,
        deadLetter: DeadLetterSettings,
        logger: Logger,
        acknowledge: @escaping @Sendable (FileKey, UInt64) async -> Void
    ) {
        self.path = path
        self.deadLetters = DeadLetterWriter(stateDirectory: stateDirectory, settings: deadLetter)
        self.logger = logger
        self.acknowledge = acknowledge
    }

    /// The counters so far.
    public func statistics() -> DeliveryStats { stats }

    public func submit(_ chunk: OperationChunk) async {
        let letters = chunk.rejected.map { DeadLetter($0, of: chunk) }
        var lines: [UInt8] = []
        lines.reserveCapacity(chunk.operations.reduce(0) { $0 + $1.bytes.count + 1 })
        for operation in chunk.operations {
            lines.append(contentsOf: operation.bytes)
            lines.append(UInt8(ascii: "\n"))
        }
        stats.operationsSubmitted += chunk.operations.count
        // A failed write is retried (the disk may be full for a while); nothing is acknowledged
        // before it is on disk.
        var delay: Duration = .milliseconds(100)
        while true {
            do {
                try deadLetters.write(letters)
                if !lines.isEmpty { try DeadLetterWriter.append(lines, to: path) }
                break
            } catch {
                logger.error(
                    "writing operations to the output file failed; retrying",
                    metadata: [DeliveryLogKey.path: "\(path)", DeliveryLogKey.error: "\(error)"]
                )
                do { try await Task.sleep(for: delay) } catch { return }
                delay = min(delay * 2, .seconds(10))
            }
        }
        stats.deadLetters += letters.count
        stats.operationsSent += chunk.operations.count
        stats.requests += 1
        await acknowledge(chunk.file, chunk.endOffset)
        stats.acknowledgements += 1
    }

    /// Nothing runs in the background: every submit writes through. Waits until cancelled.
    public func run() async throws {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(3600)) } catch { return }
        }
    }

    /// Everything submitted is already written.
    public func drain(timeout: Duration) async -> Bool { true }
}
