/// One input of the agent: something that reads lines (files, later the journal or container
/// logs), hands them on in ``LineChunk``s, and takes back the acknowledgements of what it
/// produced.
///
/// What an input owns and what it shares:
/// - **Its position.** Every chunk carries the ``FileKey`` of the unit it came from (a file, a
///   journal) and an end position in that unit's own terms (``LineChunk/endOffset``). The
///   output acknowledges that position once everything before it is delivered; the
///   ``InputRouter`` hands the ``Acknowledgement`` back to the input that owns the key, and the
///   input records its durable form (a byte offset and file identity, a journal cursor) as a
///   ``CheckpointEntry`` in the ``CheckpointStore``. Saving is the ``CheckpointService``'s job,
///   never the input's.
/// - **Its fields.** A line's bytes are what the rules match; anything more the input knows
///   (`_path`, `_source`, and per input kind e.g. `_journal.*` or `_k8s.*`) travels with the
///   chunk (``LineChunk/fields``) for templates and `where:`.
/// - **Its status.** The rows `tailtrack status` and the metrics show for its units.
///
/// An input hands its chunks to the consumer it was made with (the rules stage); the consumer
/// suspends while delivery is full, which is the backpressure that stops reading.
public protocol LineInput: Sendable {
    /// Reads until the task is cancelled, handing chunks to the input's consumer.
    func run() async throws

    /// Records that the lines of each named unit before its position are delivered.
    func acknowledge(_ acknowledgements: [Acknowledgement]) async

    /// Whether the input has opened what it reads (the agent reports READY once every input
    /// has).
    func hasOpenedSources() async -> Bool

    /// Bytes the input gave up on (deleted files released past their limits, a vacuumed
    /// journal), for the metrics.
    func lostBytes() async -> UInt64
}

/// Where the keys of one input's units come from, so that an acknowledgement finds the input
/// that produced its lines: each input of a running agent is given its own range of
/// ``FileKey`` values (its ``index`` in the top 16 bits).
public struct InputKeySpace: Sendable, Equatable {
    /// The input's place in the agent's list of inputs.
    public var index: UInt16

    public init(index: UInt16) {
        self.index = index
    }

    /// The first key of the range.
    public var firstKey: FileKey { FileKey(rawValue: UInt64(index) << 48) }

    /// The index of the input that owns `key`.
    public static func input(of key: FileKey) -> Int { Int(key.rawValue >> 48) }
}
