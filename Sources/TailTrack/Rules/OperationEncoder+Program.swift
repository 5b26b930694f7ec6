/// An ``OperationEncoder``'s program: plain values, read in place by the encoder, that say
/// what to copy from the line and which pre-encoded bytes go around it.
extension OperationEncoder {
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
        /// The conversion filter (`int`, `float`, `bool`) applied to the text, if any.
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
}
