/// The operations made from one chunk, in one buffer: each operation's JSON object followed
/// by a comma.
///
/// Consecutive operations are then, without the last comma, exactly the text they take up
/// in a `batch` array, so a request body is built with one copy per chunk instead of one per
/// operation, and the rules write an operation with one `memcpy` into a buffer that lives as
/// long as the chunk instead of allocating an array for each.
public struct PackedOperations: Sendable, Equatable {
    /// The objects, each followed by `,`.
    public private(set) var bytes: [UInt8] = []
    /// Per operation: the index in ``bytes`` just after its object (where its comma is).
    private var ends: [Int] = []
    /// Per operation: the rule that produced it.
    public private(set) var rules: [String] = []
    /// Per operation: the offset of the line it came from, in its file.
    public private(set) var lineOffsets: [UInt64] = []

    public init() {}

    /// Operations whose objects were written one after another into `bytes`, each followed
    /// by a comma; `ends[i]` is the index of operation `i`'s comma.
    init(bytes: [UInt8], ends: [Int], rules: [String], lineOffsets: [UInt64]) {
        precondition(ends.count == rules.count && ends.count == lineOffsets.count)
        self.bytes = bytes
        self.ends = ends
        self.rules = rules
        self.lineOffsets = lineOffsets
    }

    public init(_ operations: [EncodedOperation]) {
        for operation in operations { append(operation) }
    }

    public var count: Int { ends.count }
    public var isEmpty: Bool { ends.isEmpty }

    /// Where operation `index`'s object starts in ``bytes``.
    @inline(__always)
    func start(of index: Int) -> Int {
        index == 0 ? 0 : ends[index - 1] + 1
    }

    /// The size of operation `index`'s object.
    @inline(__always)
    func size(of index: Int) -> Int {
        ends[index] - start(of: index)
    }

    /// The bytes of the operations in `range` as they go into a `batch` array: the objects
    /// with a comma between each two.
    func text(of range: Range<Int>) -> ArraySlice<UInt8> {
        guard !range.isEmpty else { return [] }
        return bytes[start(of: range.lowerBound)..<ends[range.upperBound - 1]]
    }

    /// Operation `index`'s object.
    public func object(at index: Int) -> [UInt8] {
        Array(bytes[start(of: index)..<ends[index]])
    }

    public subscript(index: Int) -> EncodedOperation {
        EncodedOperation(bytes: object(at: index), rule: rules[index], lineOffset: lineOffsets[index])
    }

    /// Every operation, each with its own copy of its bytes (for sinks and tests).
    public var operations: [EncodedOperation] {
        (0..<count).map { self[$0] }
    }

    /// Adds an operation whose object is `object`.
    public mutating func append(_ object: UnsafeRawBufferPointer, rule: String, lineOffset: UInt64) {
        bytes.append(contentsOf: object)
        ends.append(bytes.count)
        bytes.append(UInt8(ascii: ","))
        rules.append(rule)
        lineOffsets.append(lineOffset)
    }

    public mutating func append(_ operation: EncodedOperation) {
        operation.bytes.withUnsafeBytes { append($0, rule: operation.rule, lineOffset: operation.lineOffset) }
    }

    /// The operations for which `keep` is true, in order.
    func filter(_ keep: (Int) -> Bool) -> PackedOperations {
        var kept = PackedOperations()
        bytes.withUnsafeBytes { buffer in
            for index in 0..<count where keep(index) {
                kept.append(
                    UnsafeRawBufferPointer(rebasing: buffer[start(of: index)..<ends[index]]),
                    rule: rules[index], lineOffset: lineOffsets[index])
            }
        }
        return kept
    }
}
