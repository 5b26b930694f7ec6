import Glibc
import Synchronization

/// What passed through the rules since the agent started, across reloads.
public struct RuleStageStats: Sendable, Equatable {
    /// Counters of one source.
    public struct SourceCounters: Sendable, Equatable {
        /// Lines read.
        public var lines = 0
        /// Bytes read: the file offsets the lines span, newlines included (uncompressed for a .gz).
        public var bytes = 0
        /// Lines no rule took.
        public var unmatched = 0

        public init(lines: Int = 0, bytes: Int = 0, unmatched: Int = 0) {
            self.lines = lines
            self.bytes = bytes
            self.unmatched = unmatched
        }
    }

    /// By source name.
    public var sources: [String: SourceCounters] = [:]
    /// By rule name: a rule keeps its counts through a reload that keeps its name.
    public var rules: [String: RuleCounters] = [:]

    public init(sources: [String: SourceCounters] = [:], rules: [String: RuleCounters] = [:]) {
        self.sources = sources
        self.rules = rules
    }
}

/// Runs the rules over chunks for the tailer's consumer: one evaluator, used by one task at a
/// time, replaceable at any chunk boundary by a reload.
final class RuleStage: Sendable {
    /// What the lock guards: the evaluator in use and the counts kept across reloads.
    private struct State {
        var evaluator: RuleEvaluator
        /// Counts of evaluators replaced by reloads, plus the per-source counts.
        var totals = RuleStageStats()
    }

    private let state: Mutex<State>

    init(ruleSet: RuleSet) {
        state = Mutex(State(evaluator: ruleSet.makeEvaluator()))
    }

    /// The rules now in force.
    var ruleSet: RuleSet {
        state.withLock { $0.evaluator.ruleSet }
    }

    func process(_ chunk: LineChunk) -> OperationChunk {
        let now = Int64(time(nil))
        return state.withLock { state in
            let unmatchedBefore = state.evaluator.stats.unmatched
            let operations = state.evaluator.process(chunk, readTime: now)
            var counters = state.totals.sources[chunk.source] ?? .init()
            counters.lines += chunk.lines.count
            counters.bytes += Int(chunk.endOffset - (chunk.lines.first?.fileOffset ?? chunk.endOffset))
            counters.unmatched += state.evaluator.stats.unmatched - unmatchedBefore
            state.totals.sources[chunk.source] = counters
            return operations
        }
    }

    /// Puts `ruleSet` in force from the next chunk on, keeping the counts so far.
    func replace(with ruleSet: RuleSet) {
        state.withLock { state in
            Self.fold(state.evaluator, into: &state.totals)
            state.evaluator = ruleSet.makeEvaluator()
        }
    }

    /// The counts so far.
    func statistics() -> RuleStageStats {
        state.withLock { state in
            var snapshot = state.totals
            Self.fold(state.evaluator, into: &snapshot)
            return snapshot
        }
    }

    private static func fold(_ evaluator: RuleEvaluator, into totals: inout RuleStageStats) {
        for (index, rule) in evaluator.ruleSet.rules.enumerated() where index < evaluator.stats.perRule.count {
            let counters = evaluator.stats.perRule[index]
            totals.rules[rule.name, default: RuleCounters()].matched += counters.matched
            totals.rules[rule.name, default: RuleCounters()].invalid += counters.invalid
        }
    }
}
