/// Splits one log line into its header (timestamp, level, pid, thread, component: found by
/// position and shape, never configured) and its content tokens, each content token typed
/// as a constant word or a ``SlotType`` — and hashes the result into the line's signature.
///
/// Why a header is found rather than asked for: the fields in front of the message vary on
/// every line (time, pid, thread) or per call site (component), and grouping on them would
/// split every template. The header only contributes its *shape* to the signature.
///
/// Allocation-free per line: the analyzer owns its buffers and is reused for every line,
/// which is what keeps discovery above a million lines a second.
struct LineAnalyzer {
    /// A field of the header.
    enum HeaderKind: UInt8, Sendable {
        case time = 1
        case level
        case pid
        case bracket
        case component
        case separator
        case host
    }

    /// One header field: its kind, whether it is `[bracketed]`, and its bytes.
    struct HeaderField: Sendable {
        var kind: HeaderKind
        var bracketed: Bool
        var start: Int
        var end: Int
        /// For a bracketed field, the inner bytes' range.
        var innerStart: Int
        var innerEnd: Int
    }

    /// One content token: the whole token's range and, for a slot, its core (the token less
    /// constant punctuation or `key=` around it).
    struct ContentToken: Sendable {
        var start: Int
        var end: Int
        var coreStart: Int
        var coreEnd: Int
        /// `nil`: a constant word.
        var slot: SlotType?
    }

    private(set) var header: [HeaderField] = []
    private(set) var tokens: [ContentToken] = []
    /// Hash of the header's shape (kinds, brackets, separator bytes).
    private(set) var shapeHash: UInt64 = 0
    /// Hash of the shape and every content token (constant bytes, or slot type and affixes).
    private(set) var signature: UInt64 = 0

    init() {
        header.reserveCapacity(16)
        tokens.reserveCapacity(128)
    }

    // MARK: - Analysis

    /// Analyzes `line` (without its newline); results in ``header``, ``tokens``,
    /// ``shapeHash`` and ``signature``.
    mutating func analyze(_ line: UnsafeRawBufferPointer) {
        header.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
        let contentStart = detectHeader(line)
        var shape = Hash64()
        for field in header {
            shape.add(field.kind.rawValue &+ (field.bracketed ? 0x80 : 0))
            if field.kind == .separator {
                for index in field.start..<field.end { shape.add(line[index]) }
            }
        }
        shapeHash = shape.value
        var hash = shape
        hash.add(0xFE)
        tokenizeContent(line, from: contentStart, into: &hash)
        hash.add(UInt8(truncatingIfNeeded: tokens.count))
        signature = hash.value
    }

    // MARK: - Header

    private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }

    private func skipSpace(_ line: UnsafeRawBufferPointer, _ index: Int) -> Int {
        var index = index
        while index < line.count, isSpace(line[index]) { index += 1 }
        return index
    }

    private func tokenEnd(_ line: UnsafeRawBufferPointer, _ index: Int) -> Int {
        var index = index
        while index < line.count, !isSpace(line[index]) { index += 1 }
        return index
    }

    /// Finds the header fields at the start of `line`; returns where the content starts (0
    /// when the line has no header: no time and no level in front).
    private mutating func detectHeader(_ line: UnsafeRawBufferPointer) -> Int {
        var position = skipSpace(line, 0)
        let begin = position
        var sawTime = false
        var sawLevel = false
        var sawHost = false
        while position < line.count, header.count < 12 {
            var field = HeaderField(
                kind: .time, bracketed: false, start: position, end: position, innerStart: position,
                innerEnd: position)
            if line[position] == UInt8(ascii: "[") {
                guard let close = Self.balancedClose(line, from: position) else { break }
                field.bracketed = true
                field.innerStart = position + 1
                field.innerEnd = close
                field.end = tokenEnd(line, close)
                let inner = UnsafeRawBufferPointer(rebasing: line[(position + 1)..<close])
                if LevelWords.isLevel(inner) {
                    if sawLevel { break }
                    field.kind = .level
                } else if !sawLevel, !sawTime || header.last?.kind == .time, TimeShape.isBracketedTime(inner) {
                    field.kind = .time
                } else if sawTime || sawLevel {
                    field.kind = .bracket
                } else {
                    break
                }
            } else {
                field.end = tokenEnd(line, position)
                field.innerStart = position
                field.innerEnd = field.end
                let token = UnsafeRawBufferPointer(rebasing: line[position..<field.end])
                let previousIsTime = header.last?.kind == .time
                let previous = header.last.flatMap { field in
                    field.kind == .time ? UnsafeRawBufferPointer(rebasing: line[field.start..<field.end]) : nil
                }
                if !sawLevel, LevelWords.isLevel(token) {
                    field.kind = .level
                } else if !sawLevel, !sawHost, header.isEmpty || previousIsTime,
                    TimeShape.isTimePiece(token, first: header.isEmpty, previous: previous)
                {
                    field.kind = .time
                } else if sawTime || sawLevel, Self.isSeparator(token) {
                    field.kind = .separator
                } else if sawTime, header.last?.kind != .component, Self.isDigits(token) {
                    field.kind = .pid
                } else if sawTime || sawLevel, Self.isComponent(token, strict: sawLevel) {
                    field.kind = .component
                } else if sawTime, !sawLevel, !sawHost, Self.isIdentifier(token),
                    nextIsComponent(line, after: field.end)
                {
                    field.kind = .host
                } else {
                    break
                }
            }
            switch field.kind {
            case .time: sawTime = true
            case .level: sawLevel = true
            case .host: sawHost = true
            default: break
            }
            header.append(field)
            position = skipSpace(line, field.end)
            if field.kind == .component { break }
        }
        // A trailing separator or pid alone after the time is kept; a header needs a time or
        // a level, else the whole line is content.
        guard sawTime || sawLevel else {
            header.removeAll(keepingCapacity: true)
            return begin
        }
        return position
    }

    private func nextIsComponent(_ line: UnsafeRawBufferPointer, after index: Int) -> Bool {
        let start = skipSpace(line, index)
        guard start < line.count else { return false }
        let end = tokenEnd(line, start)
        return Self.isComponent(UnsafeRawBufferPointer(rebasing: line[start..<end]), strict: false)
    }

    /// Index of the `]` closing the `[` at `start`, or `nil`.
    static func balancedClose(_ line: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var depth = 0
        var index = start
        while index < line.count {
            switch line[index] {
            case UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return index }
            default: break
            }
            index += 1
        }
        return nil
    }

    private static func isSeparator(_ token: UnsafeRawBufferPointer) -> Bool {
        guard token.count <= 3 else { return false }
        return token.allSatisfy {
            $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ">")
        }
    }

    private static func isDigits(_ token: UnsafeRawBufferPointer) -> Bool {
        !token.isEmpty && token.count <= 10 && token.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "$"): return true
        default: return byte >= 0x80
        }
    }

    /// A key before `:` that reads as a word (`Old:`, `user_id:`), not a host (`msra-sa-41:`).
    private static func isWordKey(_ key: UnsafeRawBufferPointer) -> Bool {
        key.allSatisfy { ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == UInt8(ascii: "_") }
    }

    private static func isIdentifier(_ token: UnsafeRawBufferPointer) -> Bool {
        !token.isEmpty && token.allSatisfy(isIdentifierByte)
    }

    /// `dfs.DataNode$PacketResponder:`, `sshd(pam_unix)[19939]:`, `kernel:`; with `strict`
    /// (after a level) a plain word with a colon (`Error:`) is content, not a component.
    private static func isComponent(_ token: UnsafeRawBufferPointer, strict: Bool) -> Bool {
        guard token.count >= 2, token[token.count - 1] == UInt8(ascii: ":") else { return false }
        var qualified = false
        for index in 0..<(token.count - 1) {
            let byte = token[index]
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: "$"), UInt8(ascii: "/"):
                qualified = true
            case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "("), UInt8(ascii: ")"):
                qualified = true
            default:
                guard isIdentifierByte(byte) else { return false }
            }
        }
        let first = token[0]
        guard (first >= 0x41 && first <= 0x5A) || (first >= 0x61 && first <= 0x7A) else { return false }
        return qualified || !strict
    }

    // MARK: - Content

    private static func isLeadingPunctuation(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "<"), UInt8(ascii: "'"),
            UInt8(ascii: "\""), UInt8(ascii: "#"):
            return true
        default: return false
        }
    }

    private static func isTrailingPunctuation(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: ")"),
            UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""),
            UInt8(ascii: "!"), UInt8(ascii: "?"):
            return true
        default: return false
        }
    }

    /// End (after the closing quote) of a quoted string starting at `start`, or `nil` when
    /// it does not close.
    static func quotedEnd(_ line: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start + 1
        while index < line.count {
            switch line[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return nil
    }

    private mutating func tokenizeContent(_ line: UnsafeRawBufferPointer, from start: Int, into hash: inout Hash64) {
        var position = skipSpace(line, start)
        while position < line.count {
            var token = ContentToken(start: position, end: position, coreStart: position, coreEnd: position, slot: nil)
            if line[position] == UInt8(ascii: "\""), let close = Self.quotedEnd(line, from: position),
                close == line.count || isSpace(line[close]) || Self.isTrailingPunctuation(line[close])
            {
                token.end = tokenEnd(line, close)
                token.coreEnd = close
                token.slot = .quoted
            } else {
                token.end = tokenEnd(line, position)
                classify(line, &token)
            }
            if let slot = token.slot {
                hash.add(slot.rawValue)
                for index in token.start..<token.coreStart { hash.add(line[index]) }
                hash.add(0xFD)
                for index in token.coreEnd..<token.end { hash.add(line[index]) }
            } else {
                for index in token.start..<token.end { hash.add(line[index]) }
            }
            hash.add(0x20)
            tokens.append(token)
            position = skipSpace(line, token.end)
        }
    }

    /// Strips punctuation and a `key=` in front, classifies the rest.
    private func classify(_ line: UnsafeRawBufferPointer, _ token: inout ContentToken) {
        var coreStart = token.start
        var coreEnd = token.end
        // key=value: the key stays constant.
        var index = token.start
        let first = line[index] | 0x20
        while first >= 0x61, first <= 0x7A, index < token.end, Self.isIdentifierByte(line[index]) { index += 1 }
        if index > token.start, index < token.end - 1,
            line[index] == UInt8(ascii: "=")
                || (line[index] == UInt8(ascii: ":") && line[index + 1] != UInt8(ascii: "/")
                    && Self.isWordKey(UnsafeRawBufferPointer(rebasing: line[token.start..<index])))
        {
            coreStart = index + 1
        }
        while coreStart < coreEnd, Self.isLeadingPunctuation(line[coreStart]) { coreStart += 1 }
        while coreEnd > coreStart, Self.isTrailingPunctuation(line[coreEnd - 1]) { coreEnd -= 1 }
        guard coreEnd > coreStart else { return }
        let core = UnsafeRawBufferPointer(rebasing: line[coreStart..<coreEnd])
        guard let slot = TokenClassifier.classify(core) else { return }
        token.coreStart = coreStart
        token.coreEnd = coreEnd
        token.slot = slot
    }
}

/// FNV-1a, 64 bits: the per-byte signature hash (fast, no allocation, good enough spread for
/// the template table, which holds at most ``TemplateMiner/Limits/signatures`` entries).
struct Hash64 {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
}
