/// Decides when a file position may be acknowledged: only once every operation of a chunk,
/// and of every earlier chunk of the same file, has been accepted by Track or dead-lettered.
///
/// Requests complete out of order (several are in flight, some are retried), so each file has
/// a FIFO of chunks with a count of operations still outstanding. Completing operations only
/// ever reports the offsets of the *oldest* chunks that are done, in file order.
public struct AcknowledgementTracker: Sendable {
    /// Names one registered chunk; operations carry it so their completion finds the chunk.
    public struct Ticket: Hashable, Sendable {
        public var file: FileKey
        public var sequence: UInt64
    }

    /// A position that may now be committed (the pipeline's ``TailTrack/Acknowledgement``).
    public typealias Acknowledgement = TailTrack.Acknowledgement

    private struct PendingChunk: Sendable {
        var endOffset: UInt64
        var outstanding: Int
    }

    /// The chunks of one file, oldest first. `chunks[head]` has sequence `headSequence`.
    private struct FileQueue: Sendable {
        var chunks: [PendingChunk] = []
        var head = 0
        var headSequence: UInt64 = 0

        var nextSequence: UInt64 { headSequence + UInt64(chunks.count - head) }
        var isEmpty: Bool { head == chunks.count }
    }

    private var files: [FileKey: FileQueue] = [:]

    public init() {}

    /// Chunks registered and not yet acknowledged, over all files.
    public var pendingChunkCount: Int {
        files.values.reduce(0) { $0 + ($1.chunks.count - $1.head) }
    }

    /// Registers the next chunk of `file` with `operations` operations still to deliver.
    ///
    /// A chunk without operations is complete at once; if every earlier chunk of the file is
    /// complete too, its acknowledgement is returned right away.
    public mutating func register(
        file: FileKey,
        endOffset: UInt64,
        operations: Int
    ) -> (ticket: Ticket, acknowledgements: [Acknowledgement]) {
        var queue = files[file] ?? FileQueue()
        let ticket = Ticket(file: file, sequence: queue.nextSequence)
        queue.chunks.append(PendingChunk(endOffset: endOffset, outstanding: max(0, operations)))
        let acknowledgements = Self.popCompleted(file: file, queue: &queue)
        store(queue, for: file)
        return (ticket, acknowledgements)
    }

    /// Marks `count` operations of the chunk `ticket` as done (accepted or dead-lettered) and
    /// returns the positions that became committable, oldest first (possibly none).
    public mutating func complete(_ ticket: Ticket, count: Int = 1) -> [Acknowledgement] {
        guard var queue = files[ticket.file], ticket.sequence >= queue.headSequence else { return [] }
        let index = queue.head + Int(ticket.sequence - queue.headSequence)
        guard index < queue.chunks.count else { return [] }
        queue.chunks[index].outstanding = max(0, queue.chunks[index].outstanding - count)
        let acknowledgements = Self.popCompleted(file: ticket.file, queue: &queue)
        store(queue, for: ticket.file)
        return acknowledgements
    }

    /// Forgets a file (it was closed for good); its unacknowledged chunks are re-read next start.
    public mutating func forget(file: FileKey) {
        files[file] = nil
    }

    /// An empty queue is kept (until ``forget(file:)``) so that sequence numbers never repeat
    /// and a stray completion can never count against a newer chunk.
    private mutating func store(_ queue: FileQueue, for file: FileKey) {
        files[file] = queue
    }

    private static func popCompleted(file: FileKey, queue: inout FileQueue) -> [Acknowledgement] {
        var acknowledgements: [Acknowledgement] = []
        while queue.head < queue.chunks.count, queue.chunks[queue.head].outstanding == 0 {
            acknowledgements.append(Acknowledgement(file: file, endOffset: queue.chunks[queue.head].endOffset))
            queue.head += 1
            queue.headSequence += 1
        }
        if queue.head == queue.chunks.count {
            queue.chunks.removeAll(keepingCapacity: true)
            queue.head = 0
        } else if queue.head > 64, queue.head * 2 > queue.chunks.count {
            queue.chunks.removeFirst(queue.head)
            queue.head = 0
        }
        return acknowledgements
    }
}
