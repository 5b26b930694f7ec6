/// A rule's ``OperationTemplate`` compiled once into a byte encoder: the operation's constant
/// parts (braces, keys, constant values) are pre-encoded runs, and the values that come from
/// the line are copied from the regex groups straight into one reusable ``OperationBuffer``,
/// JSON-escaped on the way. No `JSONValue` tree and, for the usual filters, no `String`.
///
/// The bytes are exactly what ``OperationTemplate/build(_:origin:)`` followed by
/// ``JSONWriter`` produce. Whatever the encoder does not handle itself — an operation that
/// fails validation, a value that needs a filter's full rules (non-ASCII text under `lower`,
/// an exponent under `float`) — it either renders through the same code as the template
/// (one value at a time) or gives up with ``Fallback``, and the caller builds the operation
/// the slow way, which also words the rejection. Giving up is always safe, only slower.
///
/// Compiled for `person` operations whose parts are identifiers, name, timestamp and
/// attributes (events, page and screen views, identify without relationships, delete,
/// suppress, unsuppress); other operations have no encoder and always take the slow path.
final class OperationEncoder: Sendable {
    /// The encoder does not produce this operation: build it with ``OperationTemplate``.
    struct Fallback: Error {}

    /// `{"type":"person","action":"event"`
    private let head: [UInt8]
    private let identifiers: [EncoderMember]?
    private let carriesID: Bool
    private let ruleName: String
    private let name: [EncoderTextPiece]?
    private let timestamp: TimestampSource?
    private let timestampField: EncoderField?
    private let writesTimestamp: Bool
    private let attributes: [EncoderMember]?

    /// `nil` when the template has parts this encoder does not handle.
    init?(_ template: OperationTemplate, ruleName: String) {
        guard template.type == .person, template.relationships == nil, template.device == nil,
            template.primary == nil, template.secondary == nil,
            let parts = OperationShape.actions[template.type]?[template.action]
        else { return nil }
        var writer = JSONWriter()
        writer.append("{")
        writer.writeString("type")
        writer.append(":")
        writer.writeString(template.type.rawValue)
        writer.append(",")
        writer.writeString("action")
        writer.append(":")
        writer.writeString(template.action)
        head = writer.bytes

        if let identifiers = template.identifiers {
            guard case .object(let members) = identifiers,
                members.allSatisfy({ TrackLimits.personIdentifiers.contains($0.key) })
            else { return nil }
            self.identifiers = members.map { EncoderMember(key: $0.key, value: EncoderValue($0.value)) }
        } else {
            self.identifiers = nil
        }
        carriesID = OperationShape.carriesID(template.type, template.action)
        self.ruleName = ruleName
        name = template.name.map(EncoderTextPiece.pieces)
        timestamp = template.timestamp
        timestampField = template.timestamp.map { EncoderField($0.field, filters: []) }
        writesTimestamp = parts.contains(.timestamp)
        if let attributes = template.attributes {
            guard case .object(let members) = attributes else { return nil }
            self.attributes = members.map { EncoderMember(key: $0.key, value: EncoderValue($0.value)) }
        } else {
            self.attributes = nil
        }
    }

    /// Writes the operation for a matching line into `output` (from its start).
    /// - Throws: ``Fallback`` when the operation must be built with ``OperationTemplate``.
    func encode(
        _ line: borrowing LineContext,
        fingerprint: FileFingerprint,
        offset: UInt64,
        readTime: Int64,
        into output: inout OperationBuffer
    ) throws(Fallback) {
        output.truncate(to: 0)
        output.append(head)
        if let identifiers {
            output.append(#","identifiers":{"#)
            var present = 0
            for member in identifiers {
                let mark = output.count
                output.append(member.key)
                output.append(UInt8(ascii: "\""))
                let length = try member.value.writeText(line, into: &output)
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
        if let timestamp, let timestampField {
            eventTime = try timestampField.milliseconds(line, format: timestamp.format)
        }
        if carriesID {
            output.append(#","id":""#)
            output.reserve(27)
            OperationID.write(
                fingerprint: fingerprint, offset: offset, line: line.line, rule: ruleName,
                eventTimeMilliseconds: eventTime, to: output.base + output.count)
            output.advance(by: 26)
            output.append(UInt8(ascii: "\""))
        }
        if let name {
            output.append(#","name":""#)
            var length = 0
            for piece in name {
                length += try piece.writeText(line, into: &output)
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
            for member in attributes {
                let mark = output.count
                if count > 0 { output.append(UInt8(ascii: ",")) }
                output.append(member.key)
                switch try member.value.writeJSON(line, into: &output) {
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
        guard output.count <= TrackLimits.operationBytes else { throw Fallback() }
    }
}

/// What writing a value as JSON did.
enum EncoderWritten {
    /// Nothing: the value is missing, and the key holding it is left out.
    case absent
    /// A value; `size` is what Track's attribute value limit counts (a string's UTF-8 bytes,
    /// an array's or object's JSON bytes, 0 for numbers, booleans and null).
    case present(size: Int)
}

/// One member of an object: the key pre-encoded as `"key":`.
struct EncoderMember: Sendable {
    let key: [UInt8]
    /// The key's UTF-8 length, for Track's attribute name limit.
    let keyBytes: Int
    let value: EncoderValue

    init(key: String, value: EncoderValue) {
        var writer = JSONWriter()
        writer.writeString(key)
        writer.append(":")
        self.key = writer.bytes
        keyBytes = key.utf8.count
        self.value = value
    }
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

/// A ``ValueTemplate`` compiled for the encoder.
indirect enum EncoderValue: Sendable {
    case constant(EncoderConstant)
    /// A template that is one expression: keeps the type of what it yields.
    case field(EncoderField)
    /// A template mixing text and expressions: a string.
    case text([EncoderTextPiece])
    case array([EncoderValue])
    case object([EncoderMember])

    init(_ template: ValueTemplate) {
        switch template {
        case .constant(let value):
            self = .constant(EncoderConstant(value))
        case .template(let template):
            if template.parts.count == 1, case .expression(let reference, let filters) = template.parts[0] {
                self = .field(EncoderField(reference, filters: filters))
            } else {
                self = .text(EncoderTextPiece.pieces(template))
            }
        case .array(let items):
            self = .array(items.map(EncoderValue.init))
        case .object(let members):
            self = .object(members.map { EncoderMember(key: $0.key, value: EncoderValue($0.value)) })
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
        case .text(let pieces):
            output.append(UInt8(ascii: "\""))
            var length = 0
            for piece in pieces {
                length += try piece.writeText(line, into: &output)
            }
            output.append(UInt8(ascii: "\""))
            return .present(size: length)
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

    /// Writes the value's template text, escaped for inside a JSON string; returns its
    /// UTF-8 length (0 for a missing value).
    func writeText(
        _ line: borrowing LineContext,
        into output: inout OperationBuffer
    ) throws(OperationEncoder.Fallback) -> Int {
        switch self {
        case .constant(let constant):
            output.append(constant.text)
            return constant.textLength
        case .field(let field):
            return try field.writeText(line, into: &output)
        case .text(let pieces):
            var length = 0
            for piece in pieces {
                length += try piece.writeText(line, into: &output)
            }
            return length
        case .array, .object:
            // Their text is their JSON; rare enough for identifiers to take the slow path.
            throw OperationEncoder.Fallback()
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

/// A piece of a string template.
enum EncoderTextPiece: Sendable {
    /// Literal text, pre-escaped; `length` is its UTF-8 length.
    case literal([UInt8], length: Int)
    case field(EncoderField)

    static func pieces(_ template: Template) -> [EncoderTextPiece] {
        template.parts.map { part in
            switch part {
            case .literal(let text):
                var writer = JSONWriter()
                writer.writeString(text)
                return .literal(Array(writer.bytes.dropFirst().dropLast()), length: text.utf8.count)
            case .expression(let reference, let filters):
                return .field(EncoderField(reference, filters: filters))
            }
        }
    }

    @inline(__always)
    func writeText(
        _ line: borrowing LineContext,
        into output: inout OperationBuffer
    ) throws(OperationEncoder.Fallback) -> Int {
        switch self {
        case .literal(let bytes, let length):
            output.append(bytes)
            return length
        case .field(let field):
            return try field.writeText(line, into: &output)
        }
    }
}

/// One `{{field | filters}}` expression.
///
/// Regex groups and `_line` are read as bytes in place. Their filters run on the bytes when
/// they are among the common shapes — `trim`, `lower`, `upper` and `string` in any order,
/// then at most one of `int`, `float`, `bool`, then at most one `default(…)` — and the text
/// is ASCII where a filter cares about letters or spaces. Everything else (other fields,
/// other filter orders, non-ASCII text under those filters, numbers with an exponent) goes
/// through ``TemplateFilter`` exactly as the template renders it.
struct EncoderField: Sendable {
    enum Conversion: Sendable {
        case none
        case int
        case float
        case bool
    }

    /// The filters in the byte-level form, when they have one.
    struct Plan: Sendable {
        var trim = false
        var caseMap = CaseMap.none
        var conversion = Conversion.none
        var fallback: EncoderConstant?
    }

    let reference: FieldReference
    let filters: [TemplateFilter]
    /// Whether the field's value is line bytes (a regex group or `_line`).
    let isBytes: Bool
    let plan: Plan?

    init(_ reference: FieldReference, filters: [TemplateFilter]) {
        self.reference = reference
        self.filters = filters
        switch reference {
        case .group, .line: isBytes = true
        case .path, .filePath, .source: isBytes = false
        }
        plan = Self.plan(filters)
    }

    private static func plan(_ filters: [TemplateFilter]) -> Plan? {
        var plan = Plan()
        for filter in filters {
            guard plan.fallback == nil else { return nil }
            switch filter {
            case .trim, .lower, .upper, .string:
                guard plan.conversion == .none else { return nil }
                switch filter {
                case .trim: plan.trim = true
                case .lower: plan.caseMap = .lower
                case .upper: plan.caseMap = .upper
                default: break
                }
            case .int, .float, .bool:
                guard plan.conversion == .none else { return nil }
                plan.conversion = filter == .int ? .int : filter == .float ? .float : .bool
            case .defaultValue(let value):
                plan.fallback = EncoderConstant(value)
            }
        }
        return plan
    }

    /// The field's bytes: `nil` for a group that did not take part.
    @inline(__always)
    private func bytes(_ line: borrowing LineContext) -> UnsafeRawBufferPointer? {
        switch reference {
        case .group(let number, _):
            guard let groups = line.groups, let range = groups.range(ofGroup: number) else { return nil }
            return UnsafeRawBufferPointer(rebasing: line.line[range])
        default:
            return line.line
        }
    }

    /// The value as the template renders it, through ``TemplateFilter``.
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
        if isBytes, let plan {
            guard let raw = bytes(line) else {
                guard let fallback = plan.fallback else { return .absent }
                output.append(fallback.json)
                return .present(size: fallback.size)
            }
            let ascii = ByteText.isASCII(raw)
            let needsASCII = plan.trim || plan.caseMap != .none || plan.conversion != .none
            if ascii || (!needsASCII && JSONWriter.isValidUTF8(raw)) {
                switch plan.conversion {
                case .none:
                    let text = plan.trim ? ByteText.trimmed(raw) : raw
                    if text.isEmpty, let fallback = plan.fallback {
                        output.append(fallback.json)
                        return .present(size: fallback.size)
                    }
                    output.append(UInt8(ascii: "\""))
                    output.appendEscaped(text, caseMap: plan.caseMap)
                    output.append(UInt8(ascii: "\""))
                    return .present(size: text.count)
                case .int, .float, .bool:
                    if try writeConverted(raw, plan.conversion, into: &output) { return .present(size: 0) }
                }
            }
        }
        guard let value = try rendered(line) else { return .absent }
        var writer = JSONWriter()
        writer.write(value)
        output.append(writer.bytes)
        return .present(size: EncoderValue.size(of: value))
    }

    func writeText(
        _ line: borrowing LineContext,
        into output: inout OperationBuffer
    ) throws(OperationEncoder.Fallback) -> Int {
        if isBytes, let plan {
            guard let raw = bytes(line) else {
                guard let fallback = plan.fallback else { return 0 }
                output.append(fallback.text)
                return fallback.textLength
            }
            let ascii = ByteText.isASCII(raw)
            let needsASCII = plan.trim || plan.caseMap != .none || plan.conversion != .none
            if ascii || (!needsASCII && JSONWriter.isValidUTF8(raw)) {
                switch plan.conversion {
                case .none:
                    let text = plan.trim ? ByteText.trimmed(raw) : raw
                    if text.isEmpty, let fallback = plan.fallback {
                        output.append(fallback.text)
                        return fallback.textLength
                    }
                    output.appendEscaped(text, caseMap: plan.caseMap)
                    return text.count
                case .int, .float, .bool:
                    let start = output.count
                    if try writeConverted(raw, plan.conversion, into: &output) { return output.count - start }
                }
            }
        }
        guard let value = try rendered(line) else { return 0 }
        let text = value.templateText
        var copy = text
        copy.withUTF8 { output.appendEscaped(UnsafeRawBufferPointer($0)) }
        return text.utf8.count
    }

    /// Writes ASCII `raw` through `int`, `float` or `bool` (the same digits or word in JSON
    /// and as text). Returns `false` when the text is not in the simple form handled here.
    @inline(__always)
    private func writeConverted(
        _ raw: UnsafeRawBufferPointer,
        _ conversion: Conversion,
        into output: inout OperationBuffer
    ) throws(OperationEncoder.Fallback) -> Bool {
        let text = ByteText.trimmed(raw)
        switch conversion {
        case .int:
            guard let number = ByteText.plainInteger(text) else { return false }
            output.appendInteger(number)
            return true
        case .float:
            return ByteText.appendPlainDecimal(text, into: &output)
        case .bool:
            guard let flag = ByteText.boolean(text) else { throw OperationEncoder.Fallback() }
            output.append(flag ? "true" : "false")
            return true
        case .none:
            return false
        }
    }

    /// The field's time in milliseconds, as ``OperationTemplate`` reads it.
    func milliseconds(_ line: borrowing LineContext, format: TimestampFormat) throws(OperationEncoder.Fallback)
        -> Int64
    {
        if isBytes {
            guard let raw = bytes(line) else { throw OperationEncoder.Fallback() }
            if ByteText.isASCII(raw) || JSONWriter.isValidUTF8(raw) {
                guard let milliseconds = format.parse(text: raw) else { throw OperationEncoder.Fallback() }
                return milliseconds
            }
        }
        guard let value = line.value(of: reference), value != .null, let milliseconds = format.parse(value) else {
            throw OperationEncoder.Fallback()
        }
        return milliseconds
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
