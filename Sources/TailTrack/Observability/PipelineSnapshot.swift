/// The pipeline's counters at one moment, gathered from each stage's own snapshot
/// (``RuleStageStats``, ``DeliveryStats``, ``TailedFileStatus``) without touching the hot paths.
public struct PipelineSnapshot: Sendable, Equatable {
    /// What the rules saw, per source and per rule.
    public var rules: RuleStageStats
    /// What delivery did.
    public var delivery: DeliveryStats
    /// The files being followed: counts, and those behind.
    public var files: TailedFilesSummary
    /// Bytes given up on by the tailer.
    public var lostBytes: UInt64
    /// Saves of the positions that failed.
    public var checkpointSaveFailures: Int

    public init(
        rules: RuleStageStats = RuleStageStats(), delivery: DeliveryStats = DeliveryStats(),
        files: TailedFilesSummary = TailedFilesSummary(), lostBytes: UInt64 = 0, checkpointSaveFailures: Int = 0
    ) {
        self.rules = rules
        self.delivery = delivery
        self.files = files
        self.lostBytes = lostBytes
        self.checkpointSaveFailures = checkpointSaveFailures
    }

    /// Lines read from every source.
    public var linesRead: Int { rules.sources.values.reduce(0) { $0 + $1.lines } }

    /// Operations that left the queue for good: accepted, written or dead-lettered.
    public var operationsDelivered: Int { delivery.operationsSent + delivery.deadLetters }

    /// Bytes not yet acknowledged, over the files whose size is known.
    public var bytesBehind: UInt64 { files.bytesBehind }
}
