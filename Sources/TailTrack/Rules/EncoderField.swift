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
        return .present(size: TrackLimits.attributeValueSize(of: value))
    }
}
