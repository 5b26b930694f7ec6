import Foundation
import TailTrack

/// Checks one operation the way Track does, as far as tailtrack's tests need: type, action,
/// identifiers, names, `id` and `timestamp`.
public enum TrackOperationValidator {
    /// The actions Track allows per `type`.
    public static let actions: [String: Set<String>] = [
        "person": [
            "identify", "delete", "event", "screen", "page", "add_relationships", "delete_relationships",
            "add_device", "delete_device", "merge", "suppress", "unsuppress",
        ],
        "object": ["identify", "identify_anonymous", "delete", "add_relationships", "delete_relationships"],
        "delivery": ["event"],
    ]

    /// What is wrong with `operation`, or `nil` when Track would take it.
    public static func problem(in operation: JSONValue) -> (field: String, message: String)? {
        guard case .object = operation else { return ("", "operation must be an object") }
        guard case .string(let type)? = operation["type"], let allowed = actions[type] else {
            return ("type", "type must be person, object or delivery")
        }
        guard case .string(let action)? = operation["action"], allowed.contains(action) else {
            return ("action", "action is not allowed for type \(type)")
        }
        switch type {
        case "person":
            if action == "merge" {
                for side in ["primary", "secondary"] {
                    guard let people = operation[side], hasOnePersonIdentifier(people) else {
                        return (side, "\(side) must have exactly one of id, email, cio_id")
                    }
                }
            } else if let identifiers = operation["identifiers"] {
                guard hasOnePersonIdentifier(identifiers) else {
                    return ("identifiers", "identifiers must have exactly one of id, email, phone, cio_id")
                }
            } else {
                return ("identifiers", "identifiers are required")
            }
        case "object":
            guard let identifiers = operation["identifiers"] else {
                return ("identifiers", "identifiers are required")
            }
            let typed = nonEmpty(identifiers["object_type_id"]) && nonEmpty(identifiers["object_id"])
            guard typed || nonEmpty(identifiers["cio_object_id"]) else {
                return ("identifiers", "identifiers need object_type_id and object_id, or cio_object_id")
            }
        default:
            guard let identifiers = operation["identifiers"], nonEmpty(identifiers["id"]) else {
                return ("identifiers", "identifiers.id (the delivery id) is required")
            }
        }
        if ["event", "page", "screen"].contains(action) || type == "delivery" {
            guard nonEmpty(operation["name"]) else { return ("name", "name is required for \(action)") }
        }
        if let id = operation["id"] {
            guard case .string(let text) = id, isULID(text) else { return ("id", "id must be a ULID") }
        }
        if let timestamp = operation["timestamp"] {
            guard case .int = timestamp else { return ("timestamp", "timestamp must be an integer (Unix seconds)") }
        }
        return nil
    }

    private static func hasOnePersonIdentifier(_ identifiers: JSONValue) -> Bool {
        guard case .object(let members) = identifiers else { return false }
        let present = members.filter { ["id", "email", "phone", "cio_id"].contains($0.key) && nonEmpty($0.value) }
        return present.count == 1
    }

    private static func nonEmpty(_ value: JSONValue?) -> Bool {
        switch value {
        case .string(let text)?: return !text.isEmpty
        case .int?: return true
        default: return false
        }
    }

    /// 26 characters of Crockford base32, the first at most `7` (128 bits).
    public static func isULID(_ text: String) -> Bool {
        let alphabet = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        let upper = text.uppercased()
        guard upper.count == 26, let first = upper.first, first <= "7" else { return false }
        return upper.allSatisfy { alphabet.contains($0) }
    }
}

/// Finds the byte ranges of the elements of `batch` in a request body without re-encoding.
enum BatchScanner {
    /// The ranges of the operations, or `nil` when the body is not `{"batch":[…]}` JSON.
    static func operationRanges(in body: [UInt8]) -> [Range<Int>]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            object["batch"] is [Any]
        else { return nil }
        var ranges: [Range<Int>] = []
        var depth = 0
        var inString = false
        var escaped = false
        var stringStart = 0
        var lastKey = ""
        var inBatch = false
        var elementStart: Int?
        for (index, byte) in body.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 1, !inBatch {
                        lastKey = String(decoding: body[(stringStart + 1)..<index], as: UTF8.self)
                    }
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                stringStart = index
                if inBatch, depth == 2, elementStart == nil { elementStart = index }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if inBatch, depth == 2, elementStart == nil { elementStart = index }
                if depth == 1, byte == UInt8(ascii: "["), lastKey == "batch" { inBatch = true }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if inBatch, depth == 2, let start = elementStart {
                    ranges.append(trimmed(body, start..<index))
                    elementStart = nil
                }
                depth -= 1
                if depth == 1, inBatch { return ranges }
            case UInt8(ascii: ","):
                if inBatch, depth == 2, let start = elementStart {
                    ranges.append(trimmed(body, start..<index))
                    elementStart = nil
                }
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                break
            default:
                if inBatch, depth == 2, elementStart == nil { elementStart = index }
            }
        }
        return ranges
    }

    private static func trimmed(_ body: [UInt8], _ range: Range<Int>) -> Range<Int> {
        var end = range.upperBound
        while end > range.lowerBound, [0x20, 0x0A, 0x0D, 0x09].contains(body[end - 1]) { end -= 1 }
        return range.lowerBound..<end
    }
}

extension JSONValue {
    /// Parses JSON bytes (numbers without a fraction become `.int`; object members sorted by key).
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(DecodedJSON.self, from: Data(bytes)).value
    }
}

private struct DecodedJSON: Decodable {
    var value: JSONValue

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            var members: [JSONMember] = []
            for key in object.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                members.append(JSONMember(key.stringValue, try object.decode(DecodedJSON.self, forKey: key).value))
            }
            value = .object(members)
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !array.isAtEnd { items.append(try array.decode(DecodedJSON.self).value) }
            value = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            value = .null
        } else if let flag = try? single.decode(Bool.self) {
            value = .bool(flag)
        } else if let number = try? single.decode(Int64.self) {
            value = .int(number)
        } else if let number = try? single.decode(Double.self) {
            value = .double(number)
        } else {
            value = .string(try single.decode(String.self))
        }
    }
}
