/// Identifies one followed file inside a running agent, so that acknowledgements find their
/// way back to the reader that produced the lines.
public struct FileKey: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var description: String { "file#\(rawValue)" }
}

/// One line inside a ``LineChunk``: where its bytes are in the chunk's buffer and where the
/// line starts in the file (for operation ids, dead letters and positions).
public struct LineSpan: Sendable, Equatable {
    /// Index of the line's first byte in ``LineChunk/bytes``.
    public var start: Int
    /// The line's length in bytes, without its `\n` or `\r\n`.
    public var length: Int
    /// Offset of the line's first byte in the (uncompressed) file.
    public var fileOffset: UInt64

    public init(start: Int, length: Int, fileOffset: UInt64) {
        self.start = start
        self.length = length
        self.fileOffset = fileOffset
    }
}

/// A block of complete lines read from one file: the unit the tailer hands to the rules.
///
/// Handing lines over one by one costs microseconds each; a chunk carries hundreds or
/// thousands of them for the price of one hand-over.
public struct LineChunk: Sendable {
    /// The `name` of the source (config `sources:`) the file belongs to.
    public var source: String
    /// The file's path when the lines were read.
    public var path: String
    /// The file's content fingerprint: part of every operation id.
    public var fingerprint: FileFingerprint
    /// The reader's key, to acknowledge ``endOffset`` with.
    public var file: FileKey
    /// The bytes the lines point into.
    public var bytes: [UInt8]
    /// The lines, in file order.
    public var lines: [LineSpan]
    /// The file offset just after the last line of this chunk (after its newline): the
    /// position to commit once every operation from this chunk is accepted or dead-lettered.
    public var endOffset: UInt64
    /// Set on the last chunk of the step in which the tailer caught up after a backlog: an
    /// earlier step read lines and left more unread (more than the read queue holds), and this
    /// one read every file to its end. Delivery sends what it holds at once instead of waiting
    /// for `batch.flush_interval`, so the end of a catch-up arrives without that delay; lines
    /// written a few at a time never set it.
    public var endsBacklog = false
    /// What the input knows about the lines beyond their bytes (`_journal.*`, `_container.*`,
    /// `_k8s.*`), for templates and `where:`; `nil` for plain files, whose only such fields
    /// are ``path`` and ``source``.
    public var fields: LineFields?

    public init(
        source: String,
        path: String,
        fingerprint: FileFingerprint,
        file: FileKey,
        bytes: [UInt8],
        lines: [LineSpan],
        endOffset: UInt64
    ) {
        self.source = source
        self.path = path
        self.fingerprint = fingerprint
        self.file = file
        self.bytes = bytes
        self.lines = lines
        self.endOffset = endOffset
    }
}

/// Fields an input knows about the lines of a chunk beyond their bytes, by their full name as
/// rules write them (`_k8s.pod`, `_journal.PRIORITY`, `_container.stream`).
///
/// Fields the same for every line of the chunk (those of the file or unit) are kept once;
/// fields of each line are kept per line, in the chunk's line order. Times are the input's own
/// time of each line (a journal entry's `__REALTIME_TIMESTAMP`, a container runtime's record
/// time), used instead of the time the line was read when a rule has no `timestamp:`.
public struct LineFields: Sendable, Equatable {
    /// Fields every line of the chunk has.
    public var shared: [String: String]
    /// Fields of each line (empty, or one dictionary per line of the chunk).
    public var perLine: [[String: String]]
    /// Each line's own time in Unix seconds (empty, or one per line of the chunk).
    public var times: [Int64]

    public init(shared: [String: String] = [:], perLine: [[String: String]] = [], times: [Int64] = []) {
        self.shared = shared
        self.perLine = perLine
        self.times = times
    }

    /// The value of `name` for the line at `index`: its own field, else the chunk's.
    public func value(_ name: String, line index: Int) -> String? {
        if index < perLine.count, let value = perLine[index][name] { return value }
        return shared[name]
    }

    /// The line's own time, when the input knows it.
    public func time(line index: Int) -> Int64? {
        index < times.count ? times[index] : nil
    }

    /// The prefixes of the field names inputs provide; a rule's field starting with one of
    /// these is looked up here rather than in the line.
    public static let prefixes = ["_journal.", "_container.", "_k8s."]
}
