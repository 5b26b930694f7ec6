/// A rule's ``OperationTemplate`` compiled once into a byte encoder: the operation's constant
/// parts (braces, keys, constant values) are pre-encoded runs, and the values that come from
/// the line are copied from the regex groups straight into one reusable ``OperationBuffer``,
/// JSON-escaped on the way. No `JSONValue` tree and, for the usual filters, no `String`.
///
/// The bytes are exactly what ``OperationTemplate/build(_:origin:)`` followed by
/// ``JSONWriter`` produce. Whatever the encoder does not handle on bytes — a filter chain or
/// text outside the shapes ``FieldProgram`` lists, JSON and logfmt fields, nested lists and
/// mappings — it renders one value at a time through the template's own code
/// (``TemplateFilter``); an operation that fails validation makes it give up with
/// ``Fallback``, and the caller builds that operation the slow way, which also words the
/// rejection. Giving up is always safe, only slower.
///
/// The program is plain values in memory the encoder owns, so encoding an operation costs no
/// reference counting. It is immutable after `init`, hence `@unchecked Sendable`.
///
/// Compiled for `person` operations whose parts are identifiers, name, timestamp and
/// attributes (events, page and screen views, identify without relationships, delete,
/// suppress, unsuppress); other operations have no encoder and always take the slow path.
final class OperationEncoder: @unchecked Sendable {
    /// The encoder does not produce this operation: build it with ``OperationTemplate``.
    struct Fallback: Error {}

    /// Bytes of the pre-encoded runs.
    private let pool: UnsafeMutableBufferPointer<UInt8>
    private let fields: UnsafeMutableBufferPointer<FieldProgram>
    private let constants: UnsafeMutableBufferPointer<ConstantProgram>
    private let pieces: UnsafeMutableBufferPointer<PieceProgram>
    private let members: UnsafeMutableBufferPointer<MemberProgram>
    /// Each field as the template renders it, by ``FieldProgram/generic``.
    private let genericFields: [EncoderField]
    /// Nested lists and mappings, by ``ValueProgram/tree(_:)``.
    private let trees: [EncoderValue]

    /// `{"type":"person","action":"event"`
    private let head: ByteSpan
    /// The identifier members, in ``members``; `nil` without `identifiers:`.
    private let identifiers: Range<Int>?
    private let carriesID: Bool
    /// The rule's name, UTF-8 in ``pool``, for the operation id.
    private let ruleName: ByteSpan
    /// The name's pieces, in ``pieces``.
    private let name: Range<Int>?
    private let timestampFormat: TimestampFormat?
    /// The timestamp's field, in ``fields``.
    private let timestampField: Int
    private let writesTimestamp: Bool
    /// The attribute members, in ``members``.
    private let attributes: Range<Int>?

    /// `nil` when the template has parts this encoder does not handle.
    init?(_ template: OperationTemplate, ruleName: String) {
        guard template.type == .person, template.relationships == nil, template.device == nil,
            template.primary == nil, template.secondary == nil,
            let parts = OperationShape.actions[template.type]?[template.action]
        else { return nil }
        var builder = ProgramBuilder()
        var writer = JSONWriter()
        writer.append("{")
        writer.writeString("type")
        writer.append(":")
        writer.writeString(template.type.rawValue)
        writer.append(",")
        writer.writeString("action")
        writer.append(":")
        writer.writeString(template.action)
        head = builder.span(writer.bytes)

        if let identifiers = template.identifiers {
            guard case .object(let list) = identifiers,
                list.allSatisfy({ TrackLimits.personIdentifiers.contains($0.key) })
            else { return nil }
            self.identifiers = builder.members(list)
        } else {
            identifiers = nil
        }
        carriesID = OperationShape.carriesID(template.type, template.action)
        self.ruleName = builder.span(Array(ruleName.utf8))
        name = template.name.map { builder.pieces($0) }
        timestampFormat = template.timestamp?.format
        timestampField = template.timestamp.map { builder.field($0.field, filters: []) } ?? -1
        writesTimestamp = parts.contains(.timestamp)
        if let attributes = template.attributes {
            guard case .object(let list) = attributes else { return nil }
            self.attributes = builder.members(list)
        } else {
            attributes = nil
        }

        pool = .allocate(capacity: max(1, builder.pool.count))
        _ = pool.initialize(from: builder.pool)
        fields = .allocate(capacity: max(1, builder.fields.count))
        _ = fields.initialize(from: builder.fields)
        constants = .allocate(capacity: max(1, builder.constants.count))
        _ = constants.initialize(from: builder.constants)
        pieces = .allocate(capacity: max(1, builder.pieces.count))
        _ = pieces.initialize(from: builder.pieces)
        members = .allocate(capacity: max(1, builder.members.count))
        _ = members.initialize(from: builder.members)
        genericFields = builder.genericFields
        trees = builder.trees
    }

    deinit {
        pool.deallocate()
        fields.deallocate()
        constants.deallocate()
        pieces.deallocate()
        members.deallocate()
    }

    /// Appends the operation for a matching line to `output`. On ``Fallback`` the caller
    /// truncates `output` back to where it was.
    /// - Parameters:
    ///   - line: the line's bytes.
    ///   - groups: the rule's regex groups in `line`, for a `match:` rule.
    ///   - context: makes the line as the template sees it, only when a value needs it.
    /// - Throws: ``Fallback`` when the operation must be built with ``OperationTemplate``.
    func encode(
        line: UnsafeRawBufferPointer,
        groups: RegexMatchData?,
        context: some LineContextSource,
        fingerprint: FileFingerprint,
        offset: UInt64,
        readTime: Int64,
        into output: inout OperationBuffer
    ) throws(Fallback) {
        let cursor = Cursor(line: line, groups: groups)
        let start = output.count
        output.append(bytes(head))
        if let identifiers {
            output.append(#","identifiers":{"#)
            var present = 0
            for index in identifiers {
                let member = members[index]
                let mark = output.count
                output.append(bytes(member.key))
                output.append(UInt8(ascii: "\""))
                let length = try writeText(member.value, cursor, context, into: &output)
                guard length > 0 else {
                    output.truncate(to: mark)
                    continue
                }
                output.append(UInt8(ascii: "\""))
                present += 1
                guard present == 1 else { throw Fallback() }
            }
            guard present == 1 else { throw Fallback() }
            output.append(UInt8(ascii: "}"))
        }
        var eventTime: Int64?
        if let timestampFormat {
            eventTime = try milliseconds(fields[timestampField], format: timestampFormat, cursor, context)
        }
        if carriesID {
            output.append(#","id":""#)
            output.reserve(27)
            OperationID.write(
                fingerprint: fingerprint, offset: offset, line: line, ruleUTF8: bytes(ruleName),
                eventTimeMilliseconds: eventTime, to: output.base + output.count)
            output.advance(by: 26)
            output.append(UInt8(ascii: "\""))
        }
        if let name {
            output.append(#","name":""#)
            var length = 0
            for index in name {
                length += try writeText(pieces[index], cursor, context, into: &output)
            }
            guard length > 0, length <= TrackLimits.eventNameBytes else { throw Fallback() }
            output.append(UInt8(ascii: "\""))
        }
        if writesTimestamp {
            let seconds = eventTime.map { OperationTemplate.floorDivide($0, 1000) } ?? readTime
            guard seconds >= TrackLimits.earliestTimestamp, seconds < TrackLimits.latestTimestamp else {
                throw Fallback()
            }
            output.append(#","timestamp":"#)
            output.appendInteger(seconds)
        }
        if let attributes {
            output.append(#","attributes":{"#)
            var count = 0
            for index in attributes {
                let member = members[index]
                let mark = output.count
                if count > 0 { output.append(UInt8(ascii: ",")) }
                output.append(bytes(member.key))
                switch try writeJSON(member.value, cursor, context, into: &output) {
                case .absent:
                    output.truncate(to: mark)
                case .present(let size):
                    guard member.keyBytes <= TrackLimits.attributeNameBytes, size <= TrackLimits.attributeValueBytes
                    else { throw Fallback() }
                    count += 1
                }
            }
            guard count <= TrackLimits.attributeCount else { throw Fallback() }
            output.append(UInt8(ascii: "}"))
        }
        output.append(UInt8(ascii: "}"))
        guard output.count - start <= TrackLimits.operationBytes else { throw Fallback() }
    }

    // MARK: - Values

    /// The line while one operation is encoded: its bytes and where its groups are, as
    /// plain values (no reference to count).
    private struct Cursor {
        let line: UnsafeRawBufferPointer
        let ovector: UnsafeMutablePointer<Int>?
        let setPairs: Int

        init(line: UnsafeRawBufferPointer, groups: RegexMatchData?) {
            self.line = line
            ovector = groups?.ovector
            setPairs = groups?.setPairs ?? 0
        }

        /// Group `number`'s bytes: `.some(nil)` when it did not take part, `nil` without groups.
        @inline(__always)
        func group(_ number: Int) -> UnsafeRawBufferPointer?? {
            guard let ovector else { return nil }
            guard number < setPairs else { return .some(nil) }
            let start = ovector[2 * number]
            let end = ovector[2 * number + 1]
            // PCRE2_SIZE is size_t, imported as Int: PCRE2_UNSET (~0) reads as -1.
            guard start >= 0, end >= start, end <= line.count else { return .some(nil) }
            return .some(UnsafeRawBufferPointer(rebasing: line[start..<end]))
        }
    }

    @inline(__always)
    private func bytes(_ span: ByteSpan) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: pool.baseAddress.map { $0 + Int(span.start) }, count: Int(span.count))
    }

    private func writeJSON(
        _ value: ValueProgram,
        _ cursor: Cursor,
        _ context: some LineContextSource,
        into output: inout OperationBuffer
    ) throws(Fallback) -> EncoderWritten {
        switch value {
        case .constant(let index):
            let constant = constants[Int(index)]
            output.append(bytes(constant.json))
            return .present(size: Int(constant.size))
        case .field(let index):
            return try writeJSON(fields[Int(index)], cursor, context, into: &output)
        case .text(let start, let count):
            output.append(UInt8(ascii: "\""))
            var length = 0
            for index in Int(start)..<Int(start + count) {
                length += try writeText(pieces[index], cursor, context, into: &output)
            }
            output.append(UInt8(ascii: "\""))
            return .present(size: length)
        case .tree(let index):
            return try trees[Int(index)].writeJSON(context.lineContext(cursor.line), into: &output)
        }
    }

    private func writeText(
        _ value: ValueProgram,
        _ cursor: Cursor,
        _ context: some LineContextSource,
        into output: inout OperationBuffer
    ) throws(Fallback) -> Int {
        switch value {
        case .constant(let index):
            let constant = constants[Int(index)]
            output.append(bytes(constant.text))
            return Int(constant.textLength)
        case .field(let index):
            return try writeText(fields[Int(index)], cursor, context, into: &output)
        case .text(let start, let count):
            var length = 0
            for index in Int(start)..<Int(start + count) {
                length += try writeText(pieces[index], cursor, context, into: &output)
            }
            return length
        case .tree:
            // Their text is their JSON; rare enough for identifiers to take the slow path.
            throw Fallback()
        }
    }

    @inline(__always)
    private func writeText(
        _ piece: PieceProgram,
        _ cursor: Cursor,
        _ context: some LineContextSource,
        into output: inout OperationBuffer
    ) throws(Fallback) -> Int {
        switch piece {
        case .literal(let span, let length):
            output.append(bytes(span))
            return Int(length)
        case .field(let index):
            return try writeText(fields[Int(index)], cursor, context, into: &output)
        }
    }

    /// The field's bytes when the fast path may use them: `.some(nil)` for a group that did
    /// not take part, `nil` when the field needs the template's own code.
    @inline(__always)
    private func fastBytes(_ field: FieldProgram, _ cursor: Cursor) -> UnsafeRawBufferPointer?? {
        guard field.isFast else { return nil }
        if field.group < 0 { return .some(cursor.line) }
        return cursor.group(Int(field.group))
    }

    private func writeJSON(
        _ field: FieldProgram,
        _ cursor: Cursor,
        _ context: some LineContextSource,
        into output: inout OperationBuffer
    ) throws(Fallback) -> EncoderWritten {
        if let found = fastBytes(field, cursor) {
            guard let raw = found else {
                guard field.fallback >= 0 else { return .absent }
                let constant = constants[Int(field.fallback)]
                output.append(bytes(constant.json))
                return .present(size: Int(constant.size))
            }
            if ByteText.isASCII(raw) || (!field.needsASCII && JSONWriter.isValidUTF8(raw)) {
                if field.conversion == .none {
                    let text = field.trim ? ByteText.trimmed(raw) : raw
                    if text.isEmpty, field.fallback >= 0 {
                        let constant = constants[Int(field.fallback)]
                        output.append(bytes(constant.json))
                        return .present(size: Int(constant.size))
                    }
                    output.append(UInt8(ascii: "\""))
                    output.appendEscaped(text, caseMap: field.caseMap)
                    output.append(UInt8(ascii: "\""))
                    return .present(size: text.count)
                }
                if try writeConverted(raw, field.conversion, into: &output) { return .present(size: 0) }
            }
        }
        return try genericFields[Int(field.generic)].writeJSON(context.lineContext(cursor.line), into: &output)
    }

    private func writeText(
        _ field: FieldProgram,
        _ cursor: Cursor,
        _ context: some LineContextSource,
        into output: inout OperationBuffer
    ) throws(Fallback) -> Int {
        if let found = fastBytes(field, cursor) {
            guard let raw = found else {
                guard field.fallback >= 0 else { return 0 }
                let constant = constants[Int(field.fallback)]
                output.append(bytes(constant.text))
                return Int(constant.textLength)
            }
            if ByteText.isASCII(raw) || (!field.needsASCII && JSONWriter.isValidUTF8(raw)) {
                if field.conversion == .none {
                    let text = field.trim ? ByteText.trimmed(raw) : raw
                    if text.isEmpty, field.fallback >= 0 {
                        let constant = constants[Int(field.fallback)]
                        output.append(bytes(constant.text))
                        return Int(constant.textLength)
                    }
                    output.appendEscaped(text, caseMap: field.caseMap)
                    return text.count
                }
                let start = output.count
                if try writeConverted(raw, field.conversion, into: &output) { return output.count - start }
            }
        }
        return try genericFields[Int(field.generic)].writeText(context.lineContext(cursor.line), into: &output)
    }

    /// Writes ASCII `raw` through `int`, `float` or `bool` (the same digits or word in JSON
    /// and as text). Returns `false` when the text is not in the simple form handled here.
    @inline(__always)
    private func writeConverted(
        _ raw: UnsafeRawBufferPointer,
        _ conversion: FieldProgram.Conversion,
        into output: inout OperationBuffer
    ) throws(Fallback) -> Bool {
        let text = ByteText.trimmed(raw)
        switch conversion {
        case .int:
            guard let number = ByteText.plainInteger(text) else { return false }
            output.appendInteger(number)
            return true
        case .float:
            return ByteText.appendPlainDecimal(text, into: &output)
        case .bool:
            // `bool` refuses anything else, and the template words that rejection.
            guard let flag = ByteText.boolean(text) else { throw Fallback() }
            output.append(flag ? "true" : "false")
            return true
        case .none:
            return false
        }
    }

    /// The timestamp field's time in milliseconds, as ``OperationTemplate`` reads it: `nil`
    /// when the line has no such field (the operation gets the time the line was read).
    private func milliseconds(
        _ field: FieldProgram,
        format: TimestampFormat,
        _ cursor: Cursor,
        _ context: some LineContextSource
    ) throws(Fallback) -> Int64? {
        if let found = fastBytes(field, cursor) {
            guard let raw = found else { return nil }
            if ByteText.isASCII(raw) || JSONWriter.isValidUTF8(raw) {
                guard let milliseconds = format.parse(text: raw) else { throw Fallback() }
                return milliseconds
            }
        }
        let reference = genericFields[Int(field.generic)].reference
        guard let value = context.lineContext(cursor.line).value(of: reference), value != .null else { return nil }
        guard let milliseconds = format.parse(value) else { throw Fallback() }
        return milliseconds
    }
}

/// Makes the ``LineContext`` of the line being encoded, for the values the encoder renders
/// through the template's own code. A class, so that passing it costs no reference counting
/// (a closure capturing the line's path and source got them retained around every call).
protocol LineContextSource: AnyObject {
    func lineContext(_ line: UnsafeRawBufferPointer) -> LineContext
}

// MARK: - The program

/// Where a run of pre-encoded bytes is in the encoder's pool.
struct ByteSpan {
    var start: Int32
    var count: Int32
}

/// One `{{field | filters}}` expression, in the form the encoder runs on bytes.
///
/// Regex groups and `_line` are read as bytes in place. Their filters run on the bytes when
/// they are among the common shapes — `trim`, `lower`, `upper` and `string` in any order,
/// then at most one of `int`, `float`, `bool`, then at most one `default(…)` — and the text
/// is ASCII where a filter cares about letters or spaces (valid UTF-8 otherwise). Everything
/// else (other fields, other filter orders, non-ASCII text under those filters, numbers with
/// an exponent) goes through ``TemplateFilter`` exactly as the template renders it.
struct FieldProgram {
    enum Conversion {
        case none
        case int
        case float
        case bool
    }

    /// Whether the bytes path applies at all (a group or `_line`, filters in a known shape).
    var isFast = false
    /// The regex group number; -1 for `_line`.
    var group: Int32 = -1
    var trim = false
    var caseMap = CaseMap.none
    var conversion = Conversion.none
    /// A trailing `default(…)`'s constant, in the encoder's constants; -1 without one.
    var fallback: Int32 = -1
    /// The field in the encoder's generic fields.
    var generic: Int32 = 0

    /// Whether a filter looks at letters or spaces (so non-ASCII text takes the generic path).
    var needsASCII: Bool { trim || caseMap != .none || conversion != .none }
}

/// A pre-encoded constant, in both the forms it can be written in.
struct ConstantProgram {
    /// As a JSON value.
    var json: ByteSpan
    /// Its template text (``JSONValue/templateText``), escaped for inside a JSON string.
    var text: ByteSpan
    /// The template text's UTF-8 length.
    var textLength: Int32
    /// What Track's attribute value limit counts.
    var size: Int32
}

/// A value in an operation's template.
enum ValueProgram {
    case constant(Int32)
    /// A template that is one expression: keeps the type of what it yields.
    case field(Int32)
    /// A template mixing text and expressions (a string): pieces `start..<start + count`.
    case text(start: Int32, count: Int32)
    /// A nested list or mapping, rendered by ``EncoderValue``.
    case tree(Int32)
}

/// A piece of a string template.
enum PieceProgram {
    /// Literal text, pre-escaped; the second value is its UTF-8 length.
    case literal(ByteSpan, Int32)
    case field(Int32)
}

/// A member of the identifiers or attributes mapping: the key pre-encoded as `"key":`.
struct MemberProgram {
    var key: ByteSpan
    /// The key's UTF-8 length, for Track's attribute name limit.
    var keyBytes: Int
    var value: ValueProgram
}

/// Collects a program's parts while an ``OperationEncoder`` is compiled.
private struct ProgramBuilder {
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
        case .path, .filePath, .source:
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
            return MemberProgram(key: span(writer.bytes), keyBytes: member.key.utf8.count, value: value(member.value))
        }
        let start = members.count
        members += compiled
        return start..<members.count
    }
}

// MARK: - Nested values, rendered by the template's own code

/// What writing a value as JSON did.
enum EncoderWritten {
    /// Nothing: the value is missing, and the key holding it is left out.
    case absent
    /// A value; `size` is what Track's attribute value limit counts (a string's UTF-8 bytes,
    /// an array's or object's JSON bytes, 0 for numbers, booleans and null).
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
        size = EncoderValue.size(of: value)
    }
}

/// A nested list or mapping of an operation's template (and what it holds), written as the
/// template renders it; every field goes through ``TemplateFilter``.
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

    /// What Track's attribute value limit counts for `value`.
    static func size(of value: JSONValue) -> Int {
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

/// One `{{field | filters}}` expression rendered by ``TemplateFilter``, as the template does.
struct EncoderField: Sendable {
    let reference: FieldReference
    let filters: [TemplateFilter]

    init(_ reference: FieldReference, filters: [TemplateFilter]) {
        self.reference = reference
        self.filters = filters
    }

    /// The value as the template renders it.
    private func rendered(_ line: borrowing LineContext) throws(OperationEncoder.Fallback) -> JSONValue? {
        do {
            return try TemplateFilter.apply(filters, to: line.value(of: reference), field: reference)
        } catch {
            throw OperationEncoder.Fallback()
        }
    }

    func writeJSON(
        _ line: borrowing LineContext,
        into output: inout OperationBuffer
    ) throws(OperationEncoder.Fallback) -> EncoderWritten {
        Self.write(try rendered(line), into: &output)
    }

    /// Writes the value's template text, escaped for inside a JSON string; returns its
    /// UTF-8 length (0 for a missing value).
    func writeText(
        _ line: borrowing LineContext,
        into output: inout OperationBuffer
    ) throws(OperationEncoder.Fallback) -> Int {
        guard let value = try rendered(line) else { return 0 }
        let text = value.templateText
        var copy = text
        copy.withUTF8 { output.appendEscaped(UnsafeRawBufferPointer($0)) }
        return text.utf8.count
    }

    /// Writes a rendered value as JSON.
    static func write(_ value: JSONValue?, into output: inout OperationBuffer) -> EncoderWritten {
        guard let value else { return .absent }
        var writer = JSONWriter()
        writer.write(value)
        output.append(writer.bytes)
        return .present(size: EncoderValue.size(of: value))
    }
}

/// Byte-level versions of what the template filters do to ASCII text.
enum ByteText {
    /// Whether every byte is below 0x80.
    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        var bits: UInt64 = 0
        while index + 8 <= count {
            bits |= bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            bits |= UInt64(bytes[index])
            index += 1
        }
        return bits & 0x8080_8080_8080_8080 == 0
    }

    /// Without leading and trailing spaces, tabs, CR and LF (`trimmingSpaces` for ASCII).
    @inline(__always)
    static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    @inline(__always)
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    /// An optional sign and 1 to 18 digits: what `Int64(text)` reads without overflowing.
    static func plainInteger(_ text: UnsafeRawBufferPointer) -> Int64? {
        var index = 0
        var negative = false
        if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        let digits = text.count - index
        guard digits >= 1, digits <= 18 else { return nil }
        var value: Int64 = 0
        while index < text.count {
            let digit = text[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
            index += 1
        }
        return negative ? -value : value
    }

    /// Writes a plain decimal (`12.50`, `-3`, `007.25`) as ``JSONWriter/format(_:)`` writes
    /// `Double(text)`, or returns `false` without writing when that is not certain here.
    ///
    /// With at most 15 significant digits every decimal round-trips through `Double`, so the
    /// shortest form Swift prints is the digits themselves; from 0.001 up to 10^15 it prints
    /// them without an exponent, and integral values as integers.
    static func appendPlainDecimal(_ text: UnsafeRawBufferPointer, into output: inout OperationBuffer) -> Bool {
        var index = 0
        var negative = false
        if index < text.count, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        let integerStart = index
        while index < text.count, text[index] &- UInt8(ascii: "0") < 10 { index += 1 }
        let integerEnd = index
        var fractionStart = index
        var fractionEnd = index
        if index < text.count, text[index] == UInt8(ascii: ".") {
            index += 1
            fractionStart = index
            while index < text.count, text[index] &- UInt8(ascii: "0") < 10 { index += 1 }
            fractionEnd = index
            guard fractionEnd > fractionStart else { return false }
        }
        guard index == text.count, integerEnd > integerStart else { return false }
        // Significant digits: no leading zeros in the integer, no trailing zeros in the fraction.
        var significantStart = integerStart
        while significantStart < integerEnd, text[significantStart] == UInt8(ascii: "0") { significantStart += 1 }
        while fractionEnd > fractionStart, text[fractionEnd - 1] == UInt8(ascii: "0") { fractionEnd -= 1 }
        let integerDigits = integerEnd - significantStart
        guard integerDigits <= 15 else { return false }
        if integerDigits == 0 {
            // 0.xyz: at most two zeros after the point, at most 15 digits after them.
            var first = fractionStart
            while first < fractionEnd, text[first] == UInt8(ascii: "0") { first += 1 }
            if first == fractionEnd {
                output.append(UInt8(ascii: "0"))  // zero, whatever its sign
                return true
            }
            guard first - fractionStart <= 2, fractionEnd - first <= 15 else { return false }
        } else {
            guard integerDigits + (fractionEnd - fractionStart) <= 15 else { return false }
        }
        if negative { output.append(UInt8(ascii: "-")) }
        if integerDigits == 0 {
            output.append(UInt8(ascii: "0"))
        } else {
            output.append(UnsafeRawBufferPointer(rebasing: text[significantStart..<integerEnd]))
        }
        if fractionEnd > fractionStart {
            output.append(UInt8(ascii: "."))
            output.append(UnsafeRawBufferPointer(rebasing: text[fractionStart..<fractionEnd]))
        }
        return true
    }

    /// The `bool` filter's reading of trimmed ASCII text; `nil` when it refuses the text.
    static func boolean(_ text: UnsafeRawBufferPointer) -> Bool? {
        guard text.count <= 5 else { return nil }
        var word: UInt64 = 0
        for (index, byte) in text.enumerated() {
            guard byte != 0 else { return nil }
            let lower = byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
            word |= UInt64(lower) << UInt64(8 * index)
        }
        if trueWords.contains(word) { return true }
        if falseWords.contains(word) { return false }
        return nil
    }

    /// The words `bool` reads as true and as false, packed by ``word(_:)``.
    private static let trueWords = ["true", "yes", "y", "on", "1", "t"].map(word)
    private static let falseWords = ["false", "no", "n", "off", "0", "f", ""].map(word)

    /// Up to 8 ASCII bytes packed little-endian into an integer.
    private static func word(_ text: String) -> UInt64 {
        var word: UInt64 = 0
        for (index, byte) in text.utf8.enumerated() {
            word |= UInt64(byte) << UInt64(8 * index)
        }
        return word
    }
}
