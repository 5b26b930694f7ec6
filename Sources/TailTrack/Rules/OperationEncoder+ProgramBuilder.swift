/// Compiles an ``OperationEncoder``'s program: pre-encodes the constant parts into one pool
/// of bytes and reduces each `{{field | filters}}` to what the encoder can do on bytes.
extension OperationEncoder {
    /// Collects a program's parts while an ``OperationEncoder`` is compiled.
    struct ProgramBuilder {
        var pool: [UInt8] = []
        var fields: [FieldProgram] = []
        var constants: [ConstantProgram] = []
        var pieces: [PieceProgram] = []
        var members: [MemberProgram] = []
        var genericFields: [EncoderField] = []
        var trees: [EncoderValue] = []

        mutating func span(_ bytes: [UInt8]) -> ByteSpan {
            let span = ByteSpan(start: Int32(pool.count), count: Int32(bytes.count))
            pool += bytes
            return span
        }

        mutating func constant(_ value: JSONValue) -> Int32 {
            let constant = EncoderConstant(value)
            constants.append(
                ConstantProgram(
                    json: span(constant.json), text: span(constant.text), textLength: Int32(constant.textLength),
                    size: Int32(constant.size)))
            return Int32(constants.count - 1)
        }

        mutating func field(_ reference: FieldReference, filters: [TemplateFilter]) -> Int {
            var program = FieldProgram()
            program.generic = Int32(genericFields.count)
            genericFields.append(EncoderField(reference, filters: filters))
            switch reference {
            case .group(let number, _):
                program.group = Int32(number)
                program.isFast = true
            case .line:
                program.group = -1
                program.isFast = true
            case .path, .filePath, .source, .input:
                program.isFast = false
            }
            for filter in filters where program.isFast {
                guard program.fallback < 0 else {
                    program.isFast = false
                    break
                }
                switch filter {
                case .trim, .lower, .upper, .string:
                    guard program.conversion == .none else {
                        program.isFast = false
                        break
                    }
                    if filter == .trim { program.trim = true }
                    if filter == .lower { program.caseMap = .lower }
                    if filter == .upper { program.caseMap = .upper }
                case .int, .float, .bool:
                    guard program.conversion == .none else {
                        program.isFast = false
                        break
                    }
                    program.conversion = filter == .int ? .int : filter == .float ? .float : .bool
                case .defaultValue(let value):
                    program.fallback = constant(value)
                }
            }
            fields.append(program)
            return fields.count - 1
        }

        mutating func pieces(_ template: Template) -> Range<Int> {
            // Fields first: compiling one may add constants, never pieces.
            let compiled = template.parts.map { part -> PieceProgram in
                switch part {
                case .literal(let text):
                    var writer = JSONWriter()
                    writer.writeString(text)
                    return .literal(span(Array(writer.bytes.dropFirst().dropLast())), Int32(text.utf8.count))
                case .expression(let reference, let filters):
                    return .field(Int32(field(reference, filters: filters)))
                }
            }
            let start = pieces.count
            pieces += compiled
            return start..<pieces.count
        }

        mutating func value(_ template: ValueTemplate) -> ValueProgram {
            switch template {
            case .constant(let value):
                return .constant(constant(value))
            case .template(let template):
                if template.parts.count == 1, case .expression(let reference, let filters) = template.parts[0] {
                    return .field(Int32(field(reference, filters: filters)))
                }
                let range = pieces(template)
                return .text(start: Int32(range.lowerBound), count: Int32(range.count))
            case .array, .object:
                trees.append(EncoderValue(template))
                return .tree(Int32(trees.count - 1))
            }
        }

        mutating func members(_ list: [(key: String, value: ValueTemplate)]) -> Range<Int> {
            let compiled = list.map { member -> MemberProgram in
                var writer = JSONWriter()
                writer.writeString(member.key)
                writer.append(":")
                return MemberProgram(
                    key: span(writer.bytes), keyBytes: member.key.utf8.count, value: value(member.value))
            }
            let start = members.count
            members += compiled
            return start..<members.count
        }
    }
}
