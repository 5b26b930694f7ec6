/// A JSON value: what a structured log line parses into, what a template renders to, and
/// what an operation is built from before ``JSONWriter`` turns it into bytes.
///
/// Objects keep their members in order (Track does not care, but people reading dry-run
/// output and dead letters do), so an object is a list of ``JSONMember``s, not a dictionary.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// The member named `key` of an object, or `nil` for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key == key {
            return member.value
        }
        return nil
    }

    /// Follows a dotted path (`user.id`) through nested objects. A path segment that is an
    /// integer also indexes arrays (`items.0.sku`).
    public func value(atPath path: some StringProtocol) -> JSONValue? {
        var current = self
        for segment in path.split(separator: ".", omittingEmptySubsequences: false) {
            switch current {
            case .object:
                guard let next = current[String(segment)] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(segment), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    /// The text a template inserts for this value: strings as they are, numbers and booleans
    /// in their JSON spelling, `null` as the empty string, arrays and objects as compact JSON.
    public var templateText: String {
        switch self {
        case .null: return ""
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return JSONWriter.format(number)
        case .string(let text): return text
        case .array, .object:
            var writer = JSONWriter()
            writer.write(self)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
    }
}

/// One member of a JSON object.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}
