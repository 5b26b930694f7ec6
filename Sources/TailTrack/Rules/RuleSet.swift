/// Every rule of a configuration, compiled and in order: a line is offered to them in turn
/// and, unless a rule says `continue: true`, the first that takes it wins.
public struct RuleSet: Sendable {
    public let rules: [Rule]
    /// Problems that leave the rules usable, for `check` to print (such as a `timestamp:`
    /// field the regex has no group for: those operations get the time the line was read).
    public let warnings: [RuleError]

    init(rules: [Rule], warnings: [RuleError] = []) {
        self.rules = rules
        self.warnings = warnings
    }

    /// Compiles `specs` (the config's `rules:`). `knownSources`, when given, is checked
    /// against each rule's `sources:`. Throws every problem at once.
    public static func compile(_ specs: [ValueSpec], knownSources: Set<String>?) throws(RuleErrors) -> RuleSet {
        var compiler = RuleCompiler(knownSources: knownSources)
        let rules = compiler.compile(specs)
        guard compiler.errors.isEmpty else { throw RuleErrors(compiler.errors) }
        return RuleSet(rules: rules, warnings: compiler.warnings)
    }

    /// A new evaluator: the per-thread state (match buffers, counters) for running these rules.
    public func makeEvaluator() -> RuleEvaluator {
        RuleEvaluator(ruleSet: self)
    }
}

/// Counters of one rule.
public struct RuleCounters: Sendable, Equatable {
    /// Lines the rule took.
    public var matched = 0
    /// Of those, lines whose operation failed validation (dead-lettered, not sent).
    public var invalid = 0

    public init(matched: Int = 0, invalid: Int = 0) {
        self.matched = matched
        self.invalid = invalid
    }
}

/// What the rules did with the lines they saw.
public struct RuleStats: Sendable, Equatable {
    public var lines = 0
    /// Lines no rule took.
    public var unmatched = 0
    /// Per rule, in rule order.
    public var perRule: [RuleCounters]

    public init(ruleCount: Int) {
        perRule = Array(repeating: RuleCounters(), count: ruleCount)
    }

    /// Adds another evaluator's counts.
    public mutating func add(_ other: RuleStats) {
        lines += other.lines
        unmatched += other.unmatched
        for index in perRule.indices where index < other.perRule.count {
            perRule[index].matched += other.perRule[index].matched
            perRule[index].invalid += other.perRule[index].invalid
        }
    }
}

/// The outcome of one rule on one line.
public enum RuleOutcome: Sendable {
    case operation(EncodedOperation)
    case rejected(RejectedOperation)
}
