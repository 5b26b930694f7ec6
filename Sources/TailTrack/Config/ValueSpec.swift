/// A value as written in YAML, with where it was written: the raw material of rules.
///
/// The config loader turns YAML into this tree (with `${VAR}` already substituted and scalars
/// typed by YAML's core schema: quoted → string, `7` → int, `true` → bool); the rule compiler
/// interprets it, so that every error it finds can name the exact line.
public struct ValueSpec: Sendable, Equatable {
    public indirect enum Kind: Sendable, Equatable {
        case null
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case string(String)
        case array([ValueSpec])
        case object([Member])
    }

    /// One `key: value` of a mapping, with where the key was written.
    public struct Member: Sendable, Equatable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: ValueSpec

        public init(key: String, keyLocation: SourceLocation, value: ValueSpec) {
            self.key = key
            self.keyLocation = keyLocation
            self.value = value
        }
    }

    public var kind: Kind
    public var location: SourceLocation

    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The members of a mapping, or `nil`.
    public var members: [Member]? {
        if case .object(let members) = kind { return members }
        return nil
    }

    /// The member named `key` of a mapping.
    public subscript(key: String) -> Member? {
        members?.first { $0.key == key }
    }

    /// The scalar as a string (`7` → `"7"`), or `nil` for collections and null.
    public var scalarText: String? {
        switch kind {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return JSONWriter.format(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .null, .array, .object: return nil
        }
    }

    /// The same value without locations, as JSON.
    public var jsonValue: JSONValue {
        switch kind {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(number)
        case .double(let number): return .double(number)
        case .string(let text): return .string(text)
        case .array(let items): return .array(items.map(\.jsonValue))
        case .object(let members): return .object(members.map { JSONMember($0.key, $0.value.jsonValue) })
        }
    }

    /// What YAML calls this kind of node, for error messages ("expected a mapping, found a list").
    public var kindName: String {
        switch kind {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "a mapping"
        }
    }
}
