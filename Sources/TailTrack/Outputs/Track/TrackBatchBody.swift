import NIOCore

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

    /// The body holding `texts` in order, each one operation or a run of operations already
    /// joined by commas, written into the buffer the HTTP client sends from.
    public static func buffer<Texts: Collection>(joining texts: Texts) -> ByteBuffer
    where Texts.Element: Collection, Texts.Element.Element == UInt8 {
        let textBytes = texts.reduce(0) { $0 + $1.count }
        var body = ByteBufferAllocator().buffer(capacity: size(operationBytes: textBytes, count: texts.count))
        body.writeBytes(prefix)
        var first = true
        for text in texts {
            if !first { body.writeInteger(UInt8(ascii: ",")) }
            first = false
            body.writeBytes(text)
        }
        body.writeBytes(suffix)
        return body
    }

    /// The body holding `operations` in order, as an array.
    public static func build<Operations: Collection>(_ operations: Operations) -> [UInt8]
    where Operations.Element == [UInt8] {
        Array(buffer: buffer(joining: operations))
    }
}
