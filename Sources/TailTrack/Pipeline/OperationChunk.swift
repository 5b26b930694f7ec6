/// One Track v2 operation, already encoded as the JSON object that goes into `batch`.
public struct EncodedOperation: Sendable, Equatable {
    /// The operation's JSON bytes (one object, no trailing newline).
    public var bytes: [UInt8]
    /// The rule that produced it.
    public var rule: String
    /// Offset of the line it came from, in its file.
    public var lineOffset: UInt64

    public init(bytes: [UInt8], rule: String, lineOffset: UInt64) {
        self.bytes = bytes
        self.rule = rule
        self.lineOffset = lineOffset
    }
}

/// An operation that will never be sent: it failed validation before the wire (or Track
/// rejected it). It goes to the dead-letter file with its reason.
public struct RejectedOperation: Sendable, Equatable {
    /// The operation's JSON bytes as far as they could be built (may be empty).
    public var bytes: [UInt8]
    public var rule: String
    public var lineOffset: UInt64
    /// Why: a sentence a user can act on (`event name is 131 bytes; Track allows 100`).
    public var reason: String

    public init(bytes: [UInt8], rule: String, lineOffset: UInt64, reason: String) {
        self.bytes = bytes
        self.rule = rule
        self.lineOffset = lineOffset
        self.reason = reason
    }
}

/// The operations produced from one ``LineChunk``: the unit the rules hand to delivery.
///
/// Delivery acknowledges ``endOffset`` for ``file`` once every operation here (and in every
/// earlier chunk of the same file) has been accepted by Track or dead-lettered.
public struct OperationChunk: Sendable {
    public var source: String
    public var path: String
    public var file: FileKey
    public var endOffset: UInt64
    /// The operations, in line order, in one buffer.
    public var packed: PackedOperations
    public var rejected: [RejectedOperation]
    /// From ``LineChunk/endsBacklog``: send what is queued now, not at `flush_interval`.
    public var endsBacklog = false

    /// The operations one by one, each with its own bytes.
    public var operations: [EncodedOperation] { packed.operations }

    public init(
        source: String,
        path: String,
        file: FileKey,
        endOffset: UInt64,
        packed: PackedOperations,
        rejected: [RejectedOperation]
    ) {
        self.source = source
        self.path = path
        self.file = file
        self.endOffset = endOffset
        self.packed = packed
        self.rejected = rejected
    }

    public init(
        source: String,
        path: String,
        file: FileKey,
        endOffset: UInt64,
        operations: [EncodedOperation],
        rejected: [RejectedOperation]
    ) {
        self.init(
            source: source, path: path, file: file, endOffset: endOffset, packed: PackedOperations(operations),
            rejected: rejected)
    }
}
