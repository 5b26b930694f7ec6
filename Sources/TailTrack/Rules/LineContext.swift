/// The line a rule is looking at, and what the rule's matcher found in it.
///
/// Lives only while one line is evaluated: `line` points into the chunk's buffer.
struct LineContext {
    var line: UnsafeRawBufferPointer
    var groups: RegexMatchData?
    var fields: JSONValue?
    var path: String
    var source: String
    /// What the input knows about the chunk's lines beyond their bytes, and this line's index
    /// in the chunk (see ``LineFields``); `nil` for plain files.
    var inputFields: LineFields? = nil
    var lineIndex = 0

    /// The value of a template expression's field, or `nil` when the line has none.
    func value(of reference: FieldReference) -> JSONValue? {
        switch reference {
        case .group(let number, _):
            guard let groups, let range = groups.range(ofGroup: number) else { return nil }
            return .string(String(decoding: UnsafeRawBufferPointer(rebasing: line[range]), as: UTF8.self))
        case .path(let path):
            return fields?.value(atPath: path)
        case .line:
            return .string(String(decoding: line, as: UTF8.self))
        case .filePath:
            return .string(path)
        case .source:
            return .string(source == RuleEvaluator.anySource ? "" : source)
        case .input(let name):
            return inputFields?.value(name, line: lineIndex).map { .string($0) }
        }
    }
}

/// A YAML value whose strings are templates: rendered per line into JSON.
indirect enum ValueTemplate: Sendable {
    case constant(JSONValue)
    case template(Template)
    case array([ValueTemplate])
    case object([(key: String, value: ValueTemplate)])

    /// The rendered value; `nil` for a missing single-expression value. Members and items
    /// whose value is missing are left out.
    func render(_ line: borrowing LineContext) throws(TemplateValueError) -> JSONValue? {
        switch self {
        case .constant(let value):
            return value
        case .template(let template):
            return try template.render(line)
        case .array(let items):
            var values: [JSONValue] = []
            values.reserveCapacity(items.count)
            for item in items {
                if let value = try item.render(line) { values.append(value) }
            }
            return .array(values)
        case .object(let members):
            var values: [JSONMember] = []
            values.reserveCapacity(members.count)
            for member in members {
                if let value = try member.value.render(line) { values.append(JSONMember(member.key, value)) }
            }
            return .object(values)
        }
    }
}
