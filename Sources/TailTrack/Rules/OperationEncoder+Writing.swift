/// The encoder's value writers: each value of an operation written from the line's bytes
/// when its field and filters allow it, through the template's own code
/// (``EncoderField``, ``EncoderValue``) when they do not.
extension OperationEncoder {
    /// The line while one operation is encoded: its bytes and where its groups are, as
    /// plain values (no reference to count).
    struct Cursor {
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
    func bytes(_ span: ByteSpan) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: pool.baseAddress.map { $0 + Int(span.start) }, count: Int(span.count))
    }

    func writeJSON(
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

    func writeText(
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
    func writeText(
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
    func milliseconds(
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
