import CPCRE2

/// A PCRE2 pattern compiled once, with JIT when the platform has it.
///
/// The compiled code is read-only while matching, so one instance is shared by every task;
/// each matching thread brings its own ``RegexMatchData``.
public final class CompiledRegex: @unchecked Sendable {
    /// The pattern as written.
    public let pattern: String
    /// Named groups, name → group number.
    public let groupNumbers: [String: Int]
    /// How many capturing groups the pattern has.
    public let captureCount: Int
    let code: OpaquePointer
    let isJITCompiled: Bool
    /// Bytes every match contains, when the pattern shows some (``RequiredLiteral``): lines
    /// without them are not offered to PCRE2.
    let requiredLiteral: LiteralFinder?

    /// Compiles `pattern`; throws a ``RegexCompileError`` with PCRE2's message and the offset.
    public init(_ pattern: String) throws(RegexCompileError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled: OpaquePointer? = pattern.withCString { cString in
            cString.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count) { bytes in
                pcre2_compile_8(bytes, pattern.utf8.count, 0, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            throw RegexCompileError(message: Self.message(for: errorCode), offset: errorOffset)
        }
        self.pattern = pattern
        self.code = compiled
        self.requiredLiteral = RequiredLiteral.of(pattern).map(LiteralFinder.init)
        self.isJITCompiled = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0

        var captures: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &captures)
        self.captureCount = Int(captures)

        var nameCount: UInt32 = 0
        var entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>?
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_NAMECOUNT), &nameCount)
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_NAMETABLE), &table)
        var names: [String: Int] = [:]
        if let table {
            for entry in 0..<Int(nameCount) {
                let base = table + entry * Int(entrySize)
                let number = Int(base[0]) << 8 | Int(base[1])
                var length = 0
                while length < Int(entrySize) - 2, base[2 + length] != 0 { length += 1 }
                let name = String(decoding: UnsafeBufferPointer(start: base + 2, count: length), as: UTF8.self)
                names[name] = number
            }
        }
        self.groupNumbers = names
    }

    deinit {
        pcre2_code_free_8(code)
    }

    /// Matches `subject`; on success the groups are in `matchData`.
    @inline(__always)
    public func matches(_ subject: UnsafeRawBufferPointer, using matchData: RegexMatchData) -> Bool {
        guard let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            let empty: UInt8 = 0
            return withUnsafePointer(to: empty) { match($0, length: 0, matchData) }
        }
        return match(base, length: subject.count, matchData)
    }

    @inline(__always)
    private func match(_ base: UnsafePointer<UInt8>, length: Int, _ matchData: RegexMatchData) -> Bool {
        let result: Int32
        if isJITCompiled {
            result = pcre2_jit_match_8(code, base, length, 0, 0, matchData.pointer, nil)
        } else {
            result = pcre2_match_8(code, base, length, 0, 0, matchData.pointer, nil)
        }
        // 0 means a match whose groups did not all fit in the match data (conditions use
        // small match data: they only ask whether the pattern matches).
        matchData.setPairs = Int(max(result, 0))
        matchData.subjectLength = length
        return result >= 0
    }

    /// Whether `text` contains a match (for `where:` regex conditions, off the hot path).
    public func matches(_ text: String, using matchData: RegexMatchData) -> Bool {
        var copy = text
        return copy.withUTF8 { matches(UnsafeRawBufferPointer($0), using: matchData) }
    }

    private static func message(for code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = pcre2_get_error_message_8(code, &buffer, buffer.count)
        guard length > 0 else { return "PCRE2 error \(code)" }
        return String(decoding: buffer[0..<Int(length)], as: UTF8.self)
    }
}

/// Where one thread's matches put their group offsets. Not shareable between threads.
public final class RegexMatchData {
    let pointer: OpaquePointer
    let pairs: Int
    /// The group offsets: PCRE2 keeps them at one place for the match data's lifetime.
    let ovector: UnsafeMutablePointer<Int>
    /// How many leading pairs the last match set (PCRE2 leaves the rest untouched).
    /// Only ever used by one thread: no run-time exclusivity check on every match.
    @exclusivity(unchecked) var setPairs = 0
    /// The last subject's length, to keep ranges inside it.
    @exclusivity(unchecked) var subjectLength = 0

    /// Room for `groups` capturing groups (plus the whole match).
    public init(groups: Int) {
        pairs = groups + 1
        guard let data = pcre2_match_data_create_8(UInt32(pairs), nil) else {
            fatalError("PCRE2 could not allocate match data for \(pairs) pairs")
        }
        pointer = data
        guard let ovector = pcre2_get_ovector_pointer_8(data) else {
            fatalError("PCRE2 match data has no ovector")
        }
        self.ovector = ovector
    }

    deinit {
        pcre2_match_data_free_8(pointer)
    }

    /// The byte range of group `number` in the last subject, or `nil` when it did not take part.
    @inline(__always)
    public func range(ofGroup number: Int) -> Range<Int>? {
        guard number < setPairs else { return nil }
        let start = ovector[2 * number]
        let end = ovector[2 * number + 1]
        // PCRE2_SIZE is size_t, imported as Int: PCRE2_UNSET (~0) reads as -1.
        if start < 0 || end < start || end > subjectLength { return nil }
        return Int(start)..<Int(end)
    }
}

/// A pattern PCRE2 refused, with its message and the offset in the pattern.
public struct RegexCompileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int

    public var description: String { "invalid regex at offset \(offset): \(message)" }
}
