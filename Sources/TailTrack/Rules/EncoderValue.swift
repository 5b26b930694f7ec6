/// What writing a value as JSON did.
enum EncoderWritten {
    /// Nothing: the value is missing, and the key holding it is left out.
    case absent
    /// A value; `size` is what Track's attribute value limit counts
    /// (``TrackLimits/attributeValueSize(of:)``).
    case present(size: Int)
}

/// A pre-encoded constant, in both the forms it can be written in.
struct EncoderConstant: Sendable {
    /// As a JSON value.
    let json: [UInt8]
    /// Its template text (``JSONValue/templateText``), escaped for inside a JSON string.
    let text: [UInt8]
    /// The template text's UTF-8 length.
    let textLength: Int
    /// What Track's attribute value limit counts.
    let size: Int

    init(_ value: JSONValue) {
        var writer = JSONWriter()
        writer.write(value)
        json = writer.bytes
        let templateText = value.templateText
        var textWriter = JSONWriter()
        textWriter.writeString(templateText)
        text = Array(textWriter.bytes.dropFirst().dropLast())
        textLength = templateText.utf8.count
        size = TrackLimits.attributeValueSize(of: value)
    }
}

/// A nested list or mapping of an operation's template (and what it holds), written as the
/// template renders it; every field goes through ``TemplateFilter``. Nested values are rare
/// in rules, so ``OperationEncoder`` renders them through the template's own code rather than
/// compile them to bytes.
indirect enum EncoderValue: Sendable {
    case constant(EncoderConstant)
    /// A template that is one expression: keeps the type of what it yields.
    case field(EncoderField)
    /// A template mixing text and expressions: a string.
    case text(Template)
    case array([EncoderValue])
    case object([(key: [UInt8], value: EncoderValue)])

    init(_ template: ValueTemplate) {
        switch template {
        case .constant(let value):
            self = .constant(EncoderConstant(value))
        case .template(let template):
            if template.parts.count == 1, case .expression(let reference, let filters) = template.parts[0] {
                self = .field(EncoderField(reference, filters: filters))
            } else {
                self = .text(template)
            }
        case .array(let items):
            self = .array(items.map(EncoderValue.init))
        case .object(let members):
            self = .object(
                members.map { member in
                    var writer = JSONWriter()
                    writer.writeString(member.key)
                    writer.append(":")
                    return (key: writer.bytes, value: EncoderValue(member.value))
                })
        }
    }

    /// Writes the value as JSON.
    func writeJSON(
        _ line: borrowing LineContext,
        into output: inout OperationBuffer
    ) throws(OperationEncoder.Fallback) -> EncoderWritten {
        switch self {
        case .constant(let constant):
            output.append(constant.json)
            return .present(size: constant.size)
        case .field(let field):
            return try field.writeJSON(line, into: &output)
        case .text(let template):
            let value: JSONValue?
            do {
                value = try template.render(line)
            } catch {
                throw OperationEncoder.Fallback()
            }
            return EncoderField.write(value, into: &output)
        case .array(let items):
            let start = output.count
            output.append(UInt8(ascii: "["))
            var count = 0
            for item in items {
                let mark = output.count
                if count > 0 { output.append(UInt8(ascii: ",")) }
                if case .absent = try item.writeJSON(line, into: &output) {
                    output.truncate(to: mark)
                } else {
                    count += 1
                }
            }
            output.append(UInt8(ascii: "]"))
            return .present(size: output.count - start)
        case .object(let members):
            let start = output.count
            output.append(UInt8(ascii: "{"))
            var count = 0
            for member in members {
                let mark = output.count
                if count > 0 { output.append(UInt8(ascii: ",")) }
                output.append(member.key)
                if case .absent = try member.value.writeJSON(line, into: &output) {
                    output.truncate(to: mark)
                } else {
                    count += 1
                }
            }
            output.append(UInt8(ascii: "}"))
            return .present(size: output.count - start)
        }
    }
}
