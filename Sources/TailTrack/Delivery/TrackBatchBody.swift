/// Builds the body of `POST /api/v2/batch` — `{"batch":[op,op,…]}` — by concatenating
/// operations that are already encoded, and knows its exact size before it is built.
public struct TrackBatchBody: Sendable {
    static let prefix: [UInt8] = Array(#"{"batch":["#.utf8)
    static let suffix: [UInt8] = Array("]}".utf8)

    /// Bytes of an empty body: `{"batch":[` and `]}`.
    public static let overhead = prefix.count + suffix.count

    /// The size of a body holding operations of `operationBytes` bytes in all, `count` of them.
    public static func size(operationBytes: Int, count: Int) -> Int {
        overhead + operationBytes + max(0, count - 1)
    }

    /// The body holding `operations` in order.
    public static func build<Operations: Collection>(_ operations: Operations) -> [UInt8]
    where Operations.Element == [UInt8] {
        let total = size(operationBytes: operations.reduce(0) { $0 + $1.count }, count: operations.count)
        var body: [UInt8] = []
        body.reserveCapacity(total)
        body.append(contentsOf: prefix)
        var first = true
        for operation in operations {
            if !first { body.append(UInt8(ascii: ",")) }
            first = false
            body.append(contentsOf: operation)
        }
        body.append(contentsOf: suffix)
        return body
    }
}
