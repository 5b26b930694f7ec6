/// A position that may now be committed: every operation made from the lines of one input
/// unit before ``endOffset`` was accepted by the output or dead-lettered.
///
/// Outputs produce these; the ``InputRouter`` carries each back to the input whose
/// ``FileKey`` it names, which records the position in the checkpoint store.
public struct Acknowledgement: Hashable, Sendable {
    /// The input unit (a followed file, a journal) the lines came from.
    public var file: FileKey
    /// The unit's position just after the last acknowledged line, in the unit's own terms
    /// (a byte offset for a file; an entry's sequence number for an input whose durable
    /// position is a cursor).
    public var endOffset: UInt64

    public init(file: FileKey, endOffset: UInt64) {
        self.file = file
        self.endOffset = endOffset
    }
}
