// STUB: owned by the rules-primitives helper; replaced with the real implementation.

/// The `id` of an `event`, `page` or `screen` operation: a ULID that is a pure function of
/// where the line is and what it says, so that a line read twice (after a crash, from
/// `app.log` and again from `app.log.1.gz`) gets the same id and Customer.io drops the repeat.
public enum OperationID {
    /// - Parameters:
    ///   - fingerprint: the file's content fingerprint (not its inode or path).
    ///   - offset: the line's byte offset in the uncompressed file.
    ///   - line: the line's bytes.
    ///   - rule: the rule's name (two rules on one line make two events).
    ///   - eventTimeMilliseconds: the line's own time when the rule parses one: the ULID's
    ///     time part. Without it, the time part is derived from the other inputs.
    public static func make(
        fingerprint: FileFingerprint,
        offset: UInt64,
        line: UnsafeRawBufferPointer,
        rule: String,
        eventTimeMilliseconds: Int64?
    ) -> String {
        ""
    }
}
