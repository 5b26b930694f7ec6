/// The `id` of an `event`, `page` or `screen` operation: a ULID that is a pure function of
/// where the line is and what it says, so that a line read twice (after a crash, from
/// `app.log` and again from `app.log.1.gz`) gets the same id and Customer.io drops the repeat.
///
/// The 80 bits of entropy are a ``StableHasher`` digest of the fingerprint, the offset, the
/// line and the rule name, so any difference in those gives a different id. The time part is
/// the line's own time when the rule parses one; otherwise it comes from the rest of the
/// digest, mapped into 2020–2029 so that tools decoding the ULID show a plausible date.
/// Changing anything here changes every id: lines re-read after an upgrade would be counted
/// twice. A test pins one exact value.
public enum OperationID {
    /// The start of the range a derived time part falls into: 2020-01-01T00:00:00Z.
    static let derivedTimeLowerBound: UInt64 = 1_577_836_800_000
    /// The end (exclusive) of that range: 2030-01-01T00:00:00Z.
    static let derivedTimeUpperBound: UInt64 = 1_893_456_000_000

    /// - Parameters:
    ///   - fingerprint: the file's content fingerprint (not its inode or path).
    ///   - offset: the line's byte offset in the uncompressed file.
    ///   - line: the line's bytes.
    ///   - rule: the rule's name (two rules on one line make two events).
    ///   - eventTimeMilliseconds: the line's own time when the rule parses one: the ULID's
    ///     time part, clamped to what a ULID holds (0 through 2^48 - 1). Without it, the time
    ///     part is derived from the other inputs.
    public static func make(
        fingerprint: FileFingerprint,
        offset: UInt64,
        line: UnsafeRawBufferPointer,
        rule: String,
        eventTimeMilliseconds: Int64?
    ) -> String {
        String(unsafeUninitializedCapacity: 26) { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            write(
                fingerprint: fingerprint, offset: offset, line: line, rule: rule,
                eventTimeMilliseconds: eventTimeMilliseconds, to: base)
            return 26
        }
    }

    /// Writes the 26 characters of ``make(fingerprint:offset:line:rule:eventTimeMilliseconds:)``
    /// to `target`, which has room for them.
    static func write(
        fingerprint: FileFingerprint,
        offset: UInt64,
        line: UnsafeRawBufferPointer,
        rule: String,
        eventTimeMilliseconds: Int64?,
        to target: UnsafeMutablePointer<UInt8>
    ) {
        var name = rule
        name.withUTF8 {
            write(
                fingerprint: fingerprint, offset: offset, line: line, ruleUTF8: UnsafeRawBufferPointer($0),
                eventTimeMilliseconds: eventTimeMilliseconds, to: target)
        }
    }

    /// ``write(fingerprint:offset:line:rule:eventTimeMilliseconds:to:)`` with the rule's name
    /// as UTF-8 bytes (hashed exactly as the `String`).
    static func write(
        fingerprint: FileFingerprint,
        offset: UInt64,
        line: UnsafeRawBufferPointer,
        ruleUTF8: UnsafeRawBufferPointer,
        eventTimeMilliseconds: Int64?,
        to target: UnsafeMutablePointer<UInt8>
    ) {
        var hasher = StableHasher()
        hasher.combine(fingerprint.value)
        hasher.combine(UInt64(truncatingIfNeeded: fingerprint.length))
        hasher.combine(offset)
        hasher.combine(bytes: line)
        hasher.combine(UInt64(line.count))
        // As `combine(_: String)`: the bytes, then their count.
        hasher.combine(bytes: ruleUTF8)
        hasher.combine(UInt64(ruleUTF8.count))
        let (first, second) = hasher.finalize()

        let time: UInt64
        if let eventTimeMilliseconds {
            time = min(UInt64(max(0, eventTimeMilliseconds)), ULID.maximumTimeMilliseconds)
        } else {
            let span = derivedTimeUpperBound - derivedTimeLowerBound
            time = derivedTimeLowerBound + (first >> 16) % span
        }
        ULID.write(
            timeMilliseconds: time,
            entropyHigh: UInt16(truncatingIfNeeded: first),
            entropyLow: second,
            to: target
        )
    }
}
