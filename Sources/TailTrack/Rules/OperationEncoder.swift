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
/// The program (``OperationEncoder/FieldProgram`` and its siblings, in
/// `OperationEncoder+Program.swift`) is plain values in memory the encoder owns, so encoding an
/// operation costs no reference counting. It is immutable after `init`, hence
/// `@unchecked Sendable`. This file holds the encoder's layout and the operation's outline;
/// `OperationEncoder+Writing.swift` writes the values, ``OperationEncoder/ProgramBuilder``
/// compiles the program, ``EncoderValue`` renders nested values and ``ByteText`` does the
/// filters' work on bytes. The limits it checks are ``TrackLimits``'s, the same predicates
/// the template checks.
///
/// Compiled for `person` operations whose parts are identifiers, name, timestamp and
/// attributes (events, page and screen views, identify without relationships, delete,
/// suppress, unsuppress); other operations have no encoder and always take the slow path.
final class OperationEncoder: @unchecked Sendable {
    /// The encoder does not produce this operation: build it with ``OperationTemplate``.
    struct Fallback: Error {}

    // The program, read by the value writers in `OperationEncoder+Writing.swift`.
    /// Bytes of the pre-encoded runs.
    let pool: UnsafeMutableBufferPointer<UInt8>
    let fields: UnsafeMutableBufferPointer<FieldProgram>
    let constants: UnsafeMutableBufferPointer<ConstantProgram>
    let pieces: UnsafeMutableBufferPointer<PieceProgram>
    private let members: UnsafeMutableBufferPointer<MemberProgram>
    /// Each field as the template renders it, by ``FieldProgram/generic``.
    let genericFields: [EncoderField]
    /// Nested lists and mappings, by ``ValueProgram/tree(_:)``.
    let trees: [EncoderValue]

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
        let shape = template.shape
        guard shape.type == .person, template.relationships == nil, template.device == nil,
            template.primary == nil, template.secondary == nil
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
                list.allSatisfy({ TrackOperationShape.personIdentifiers.contains($0.key) })
            else { return nil }
            self.identifiers = builder.members(list)
        } else {
            identifiers = nil
        }
        carriesID = shape.carriesID
        self.ruleName = builder.span(Array(ruleName.utf8))
        name = template.name.map { builder.pieces($0) }
        timestampFormat = template.timestamp?.format
        timestampField = template.timestamp.map { builder.field($0.field, filters: []) } ?? -1
        writesTimestamp = shape.takesTimestamp
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
            guard length > 0, TrackLimits.allowsEventName(bytes: length) else { throw Fallback() }
            output.append(UInt8(ascii: "\""))
        }
        if writesTimestamp {
            let seconds = eventTime.map { $0.floorDividedBy(1000) } ?? readTime
            guard TrackLimits.allowsTimestamp(seconds: seconds) else { throw Fallback() }
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
                    guard TrackLimits.allowsAttributeName(bytes: member.keyBytes),
                        TrackLimits.allowsAttributeValue(size: size)
                    else { throw Fallback() }
                    count += 1
                }
            }
            guard TrackLimits.allowsAttributes(count: count) else { throw Fallback() }
            output.append(UInt8(ascii: "}"))
        }
        output.append(UInt8(ascii: "}"))
        guard TrackLimits.allowsOperation(bytes: output.count - start) else { throw Fallback() }
    }

}

/// Makes the ``LineContext`` of the line being encoded, for the values the encoder renders
/// through the template's own code. A class, so that passing it costs no reference counting
/// (a closure capturing the line's path and source got them retained around every call).
protocol LineContextSource: AnyObject {
    func lineContext(_ line: UnsafeRawBufferPointer) -> LineContext
}
