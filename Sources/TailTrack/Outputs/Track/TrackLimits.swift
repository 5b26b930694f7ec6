/// Track v2's size and range limits, each defined once and each checked through one predicate
/// here: `check` (``RuleCompiler``), the template's validation (``OperationTemplate``), the
/// evaluator's last check of a built operation and the byte encoder (``OperationEncoder``) all
/// ask the same question, so the fast and the slow path cannot disagree about a limit.
///
/// The figures are those of Customer.io's OpenAPI document for `POST /api/v2/batch`
/// (`shared/trackv2/`). Track rejects what is over them, or, for a timestamp, silently
/// replaces it with "now"; an operation that would be refused is dead-lettered here instead.
/// What an operation may contain (actions, parts, identifier names) is
/// ``TrackOperationShape``'s concern; how the request body is framed, ``TrackBatchBody``'s.
enum TrackLimits {
    /// One request body: at most 500,000 bytes.
    static let requestBytes = 500_000
    /// One operation, as encoded JSON: at most 32,000 bytes.
    static let operationBytes = 32_000
    /// An event's (page's, screen's) `name`: at most 100 UTF-8 bytes.
    static let eventNameBytes = 100
    /// An attribute's name: at most 150 UTF-8 bytes.
    static let attributeNameBytes = 150
    /// An attribute's value, as ``attributeValueSize(of:)`` counts it: at most 1,000 bytes.
    static let attributeValueBytes = 1000
    /// Attributes in one operation: at most 300.
    static let attributeCount = 300
    /// 2000-01-01T00:00:00Z: earlier "timestamps" are nearly always a wrong unit or field.
    static let earliestTimestamp: Int64 = 946_684_800
    /// 2100-01-01T00:00:00Z: later ones are nearly always milliseconds read as seconds.
    static let latestTimestamp: Int64 = 4_102_444_800

    /// Whether an operation of `bytes` encoded bytes is within ``operationBytes``.
    @inline(__always)
    static func allowsOperation(bytes: Int) -> Bool {
        bytes <= operationBytes
    }

    /// Whether a name of `bytes` UTF-8 bytes is within ``eventNameBytes``.
    @inline(__always)
    static func allowsEventName(bytes: Int) -> Bool {
        bytes <= eventNameBytes
    }

    /// Whether an attribute name of `bytes` UTF-8 bytes is within ``attributeNameBytes``.
    @inline(__always)
    static func allowsAttributeName(bytes: Int) -> Bool {
        bytes <= attributeNameBytes
    }

    /// Whether an attribute value of `size` (``attributeValueSize(of:)``) is within
    /// ``attributeValueBytes``.
    @inline(__always)
    static func allowsAttributeValue(size: Int) -> Bool {
        size <= attributeValueBytes
    }

    /// Whether `count` attributes are within ``attributeCount``.
    @inline(__always)
    static func allowsAttributes(count: Int) -> Bool {
        count <= attributeCount
    }

    /// Whether `seconds` is a plausible operation timestamp: from ``earliestTimestamp`` up to,
    /// not including, ``latestTimestamp``.
    @inline(__always)
    static func allowsTimestamp(seconds: Int64) -> Bool {
        seconds >= earliestTimestamp && seconds < latestTimestamp
    }

    /// What Track's attribute value limit counts for `value`: a string's UTF-8 bytes, an
    /// array's or object's JSON bytes, 0 for numbers, booleans and null.
    static func attributeValueSize(of value: JSONValue) -> Int {
        switch value {
        case .string(let text): return text.utf8.count
        case .int, .double, .bool, .null: return 0
        case .array, .object:
            var writer = JSONWriter()
            writer.write(value)
            return writer.bytes.count
        }
    }
}
