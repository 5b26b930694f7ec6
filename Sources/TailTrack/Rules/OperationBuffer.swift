#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of one operation while ``OperationEncoder`` writes it: a growable buffer that
/// keeps its storage from one operation to the next, so encoding allocates nothing until
/// the finished operation is copied out.
///
/// It owns raw memory: whoever creates one calls ``deallocate()`` exactly once (the
/// ``RuleEvaluator`` does in its `deinit`). Copies share the storage; only the owner's copy
/// is used.
struct OperationBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    /// Bytes written so far.
    var count = 0

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    /// Frees the storage; the buffer must not be used afterwards.
    func deallocate() {
        base.deallocate()
    }

    /// The bytes written, as a new array.
    var bytes: [UInt8] {
        Array(UnsafeBufferPointer(start: base, count: count))
    }

    /// Drops everything written after `mark` (a former ``count``).
    @inline(__always)
    mutating func truncate(to mark: Int) {
        count = mark
    }

    /// Counts `written` bytes that were stored past ``count`` directly (after ``reserve(_:)``).
    @inline(__always)
    mutating func advance(by written: Int) {
        count += written
    }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        memcpy(base + count, source, bytes.count)
        count += bytes.count
    }

    @inline(__always)
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    @inline(__always)
    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends an integer in decimal, as ``JSONWriter/writeInteger(_:)`` does.
    mutating func appendInteger(_ number: Int64) {
        reserve(20)
        var magnitude = number.magnitude
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        if number < 0 {
            base[count] = UInt8(ascii: "-")
            count += 1
        }
        var position = count + digits
        count = position
        repeat {
            position -= 1
            base[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
    }

    /// Appends `text` (valid UTF-8) JSON-escaped as ``JSONWriter`` escapes a string's
    /// contents, without the quotes. Runs without anything to escape are found 8 bytes at a
    /// time and copied whole.
    mutating func appendEscaped(_ text: UnsafeRawBufferPointer) {
        let count = text.count
        reserve(count)
        var runStart = 0
        var index = 0
        while index < count {
            if index + 8 <= count,
                !Self.hasEscapable(text.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            {
                index += 8
                continue
            }
            let end = min(index + 8, count)
            while index < end {
                let byte = text[index]
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    if runStart < index { append(UnsafeRawBufferPointer(rebasing: text[runStart..<index])) }
                    appendEscape(byte)
                    runStart = index + 1
                }
                index += 1
            }
        }
        if runStart < count { append(UnsafeRawBufferPointer(rebasing: text[runStart..<count])) }
    }

    /// Whether any of the 8 bytes of `word` is a control character, `"` or a backslash
    /// (the "has a byte less than n" and "has a zero byte" bit tricks).
    @inline(__always)
    static func hasEscapable(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- 0x2020_2020_2020_2020) & ~word & highs
        let quotes = word ^ 0x2222_2222_2222_2222
        let backslashes = word ^ 0x5C5C_5C5C_5C5C_5C5C
        let quote = (quotes &- ones) & ~quotes & highs
        let backslash = (backslashes &- ones) & ~backslashes & highs
        return control | quote | backslash != 0
    }

    /// Appends ASCII `text` JSON-escaped, changing letters to lower or upper case on the way.
    mutating func appendEscaped(_ text: UnsafeRawBufferPointer, caseMap: CaseMap) {
        guard caseMap != .none else {
            appendEscaped(text)
            return
        }
        for byte in text {
            var mapped = byte
            switch caseMap {
            case .lower: if byte &- UInt8(ascii: "A") < 26 { mapped = byte | 0x20 }
            case .upper: if byte &- UInt8(ascii: "a") < 26 { mapped = byte & ~0x20 }
            case .none: break
            }
            if mapped < 0x20 || mapped == UInt8(ascii: "\"") || mapped == UInt8(ascii: "\\") {
                appendEscape(mapped)
            } else {
                append(mapped)
            }
        }
    }

    private mutating func appendEscape(_ byte: UInt8) {
        append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): append(UInt8(ascii: "\\"))
        case 0x0A: append(UInt8(ascii: "n"))
        case 0x0D: append(UInt8(ascii: "r"))
        case 0x09: append(UInt8(ascii: "t"))
        case 0x08: append(UInt8(ascii: "b"))
        case 0x0C: append(UInt8(ascii: "f"))
        default:
            let hex: StaticString = "0123456789abcdef"
            append("u00")
            append(hex.utf8Start[Int(byte >> 4)])
            append(hex.utf8Start[Int(byte & 0xF)])
        }
    }
}

/// Letter case changes the `lower` and `upper` filters make (ASCII text only on the fast path).
enum CaseMap: Sendable, Equatable {
    case none
    case lower
    case upper
}
