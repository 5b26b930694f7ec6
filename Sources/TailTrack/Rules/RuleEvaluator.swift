/// Runs a ``RuleSet`` over lines: one per thread, since it owns the PCRE2 match buffers.
///
/// The per-line path allocates nothing unless a rule takes the line: regexes match the raw
/// bytes in place, JSON and logfmt lines are parsed only when a rule of that kind applies.
/// A taken line's operation is written by the rule's ``OperationEncoder`` into one reusable
/// buffer and copied out once; only operations the encoder leaves to it (and rejections)
/// are built as a `JSONValue` by ``OperationTemplate``.
public final class RuleEvaluator {
    public let ruleSet: RuleSet
    /// Counts since creation. (An evaluator is used by one thread at a time: no run-time
    /// exclusivity checks on the per-line paths.)
    @exclusivity(unchecked) public private(set) var stats: RuleStats
    private let groups: RegexMatchData
    private let conditionGroups: RegexMatchData
    private var rulesBySource: [String: ApplicableRules] = [:]
    /// Each rule's matcher, by rule index, as plain values: reading one costs no reference
    /// counting, where `ruleSet.rules[index]` copies the whole ``Rule`` (a dozen retains and
    /// releases) for every line offered to it, taken or not. ``ruleSet`` keeps the regexes alive.
    private let matchers: [Matcher]

    /// How a rule takes a line, without the rest of the rule.
    private enum Matcher {
        case regex(Unmanaged<CompiledRegex>)
        case json
        case logfmt
    }
    /// What a taken line needs of each rule, by rule index, behind one reference.
    private let plans: [RulePlan]
    /// Where encoders write: a chunk's operations one after another (``process(_:readTime:)``)
    /// or one line's (``evaluate(_:source:path:fingerprint:offset:readTime:emit:)``); the
    /// storage is kept from chunk to chunk.
    @exclusivity(unchecked) private var output = OperationBuffer()
    /// Where each of the chunk's operations in ``output`` ends, its rule and its line's offset,
    /// while ``process(_:readTime:)`` runs.
    @exclusivity(unchecked) private var listed = ListedOperations()
    /// The line being evaluated, as far as ``lineContext(_:)`` needs it beyond its bytes.
    @exclusivity(unchecked) private var currentPath = ""
    @exclusivity(unchecked) private var currentSource = ""
    @exclusivity(unchecked) private var currentFields: JSONValue?
    @exclusivity(unchecked) private var currentHasGroups = false
    @exclusivity(unchecked) private var currentInputFields: LineFields?
    @exclusivity(unchecked) private var currentLineIndex = 0
    /// Lines and operations of the chunks processed so far: how much room a chunk's list of
    /// operations is given up front.
    @exclusivity(unchecked) private var linesSeen = 0
    @exclusivity(unchecked) private var operationsSeen = 0
    /// Whether rules with an ``OperationEncoder`` use it (tests compare both paths).
    let usesEncoders: Bool
    /// Taken lines whose rule has an encoder that left the operation to the template.
    @exclusivity(unchecked) private(set) var encoderFallbacks = 0

    init(ruleSet: RuleSet, usesEncoders: Bool = true) {
        self.ruleSet = ruleSet
        self.usesEncoders = usesEncoders
        matchers = ruleSet.rules.map { rule in
            switch rule.matcher {
            case .regex(let regex): return .regex(Unmanaged.passUnretained(regex))
            case .json: return .json
            case .logfmt: return .logfmt
            }
        }
        plans = ruleSet.rules.map(RulePlan.init)
        stats = RuleStats(ruleCount: ruleSet.rules.count)
        groups = RegexMatchData(groups: ruleSet.rules.map(\.captureCount).max() ?? 0)
        conditionGroups = RegexMatchData(groups: 0)
    }

    deinit {
        output.deallocate()
    }

    /// Runs the rules over every line of `chunk`.
    ///
    /// When every rule that applies has a ``RequiredLiteral``, the chunk is searched for those
    /// bytes first, and a line that has none of them is counted as unmatched without being
    /// offered to any rule.
    /// - Parameter readTime: unix seconds, the timestamp of operations whose rule parses none.
    public func process(_ chunk: LineChunk, readTime: Int64) -> OperationChunk {
        // The chunk's operations are written one after another into `output`, each followed
        // by a comma, and leave it in one copy at the end: no array per operation.
        output.truncate(to: 0)
        listed = ListedOperations()
        if linesSeen > 0 {
            let expected = chunk.lines.count * operationsSeen / linesSeen + 1
            listed.ends.reserveCapacity(expected)
            listed.rules.reserveCapacity(expected)
            listed.lineOffsets.reserveCapacity(expected)
        }
        // A stored property, not locals: locals captured by the closures below would be
        // boxed and checked for exclusive access at run time on every operation.
        func finish(rule: String, lineOffset: UInt64) {
            listed.ends.append(output.count)
            output.append(UInt8(ascii: ","))
            listed.rules.append(rule)
            listed.lineOffsets.append(lineOffset)
        }
        var rejected: [RejectedOperation] = []
        let applicable = rules(for: chunk.source)
        chunk.bytes.withUnsafeBytes { buffer in
            var screen = applicable.literals.flatMap { LineScreen($0, in: buffer) }
            for (lineIndex, span) in chunk.lines.enumerated() {
                if screen?.anyLiteral(from: span.start, to: span.start + span.length) == false {
                    stats.lines += 1
                    stats.unmatched += 1
                    continue
                }
                let line = UnsafeRawBufferPointer(rebasing: buffer[span.start..<(span.start + span.length)])
                evaluate(
                    line,
                    rules: applicable.indices,
                    source: chunk.source,
                    path: chunk.path,
                    origin: (chunk.fingerprint, span.fileOffset),
                    // A line the input dated (a journal entry, a container record) carries
                    // that time, not the time it was read.
                    readTime: chunk.fields?.time(line: lineIndex) ?? readTime,
                    input: chunk.fields.map { ($0, lineIndex) },
                    emit: { outcome in
                        switch outcome {
                        case .operation(let operation):
                            operation.bytes.withUnsafeBytes { output.append($0) }
                            finish(rule: operation.rule, lineOffset: operation.lineOffset)
                        case .rejected(let rejection): rejected.append(rejection)
                        }
                    },
                    emitEncoded: { _, rule, lineOffset in finish(rule: rule, lineOffset: lineOffset) }
                )
            }
        }
        let packed = PackedOperations(
            bytes: Array(UnsafeBufferPointer(start: output.base, count: output.count)), ends: listed.ends,
            rules: listed.rules, lineOffsets: listed.lineOffsets)
        output.truncate(to: 0)
        listed = ListedOperations()
        linesSeen += chunk.lines.count
        operationsSeen += packed.count
        var operations = OperationChunk(
            source: chunk.source,
            path: chunk.path,
            file: chunk.file,
            endOffset: chunk.endOffset,
            packed: packed,
            rejected: rejected
        )
        operations.endsBacklog = chunk.endsBacklog
        return operations
    }

    /// Runs the rules over one line, calling `emit` for each operation or rejection.
    public func evaluate(
        _ line: UnsafeRawBufferPointer,
        source: String,
        path: String,
        fingerprint: FileFingerprint,
        offset: UInt64,
        readTime: Int64,
        emit: (RuleOutcome) -> Void
    ) {
        evaluate(
            line,
            rules: rules(for: source).indices,
            source: source,
            path: path,
            origin: (fingerprint, offset),
            readTime: readTime,
            emit: emit,
            emitEncoded: { start, rule, lineOffset in
                let bytes = Array(UnsafeBufferPointer(start: output.base + start, count: output.count - start))
                output.truncate(to: start)
                emit(.operation(EncodedOperation(bytes: bytes, rule: rule, lineOffset: lineOffset)))
            }
        )
    }

    /// A source name that every rule applies to, whatever its `sources:` say.
    static let anySource = "\u{0}any"

    /// The rules that apply to `source` (cached per source).
    private func rules(for source: String) -> ApplicableRules {
        if let cached = rulesBySource[source] { return cached }
        let indices = ruleSet.rules.indices.filter {
            source == Self.anySource || (ruleSet.rules[$0].sources?.contains(source) ?? true)
        }
        var literals: [LiteralFinder]? = indices.isEmpty ? nil : []
        for index in indices {
            guard case .regex(let regex) = ruleSet.rules[index].matcher, let literal = regex.requiredLiteral else {
                literals = nil
                break
            }
            literals?.append(literal)
        }
        let applicable = ApplicableRules(indices: indices, literals: literals)
        rulesBySource[source] = applicable
        return applicable
    }

    private func evaluate(
        _ line: UnsafeRawBufferPointer,
        rules indices: [Int],
        source: String,
        path: String,
        origin: (FileFingerprint, UInt64),
        readTime: Int64,
        input: (fields: LineFields, line: Int)? = nil,
        emit: (RuleOutcome) -> Void,
        emitEncoded: (_ start: Int, _ rule: String, _ lineOffset: UInt64) -> Void
    ) {
        stats.lines += 1
        var matchedAny = false
        var json: JSONValue??
        var logfmt: JSONValue??
        for index in indices {
            // Only the matcher is looked at until the line is taken; no per-line copies.
            var groupsMatched: RegexMatchData?
            var fields: JSONValue?
            switch matchers[index] {
            case .regex(let regex):
                guard regex._withUnsafeGuaranteedRef({ $0.matches(line, using: groups) }) else { continue }
                groupsMatched = groups
            case .json:
                if json == nil { json = Self.looksLikeJSON(line) ? JSONLineParser.parse(line) : .some(nil) }
                guard let parsed = json ?? nil else { continue }
                fields = parsed
            case .logfmt:
                if logfmt == nil { logfmt = LogfmtParser.parse(line) }
                guard let parsed = logfmt ?? nil else { continue }
                fields = parsed
            }
            let plan = plans[index]
            if !plan.conditions.isEmpty {
                let context = LineContext(
                    line: line, groups: groupsMatched, fields: fields, path: path, source: source,
                    inputFields: input?.fields, lineIndex: input?.line ?? 0)
                guard plan.conditions.allSatisfy({ $0.holds(in: context, regexData: conditionGroups) }) else {
                    continue
                }
            }

            matchedAny = true
            stats.perRule[index].matched += 1
            if usesEncoders, let encoder = plan.encoder {
                let start = output.count
                do {
                    if currentPath != path { currentPath = path }
                    if currentSource != source { currentSource = source }
                    if fields != nil || currentFields != nil { currentFields = fields }
                    currentHasGroups = groupsMatched != nil
                    if input != nil || currentInputFields != nil {
                        currentInputFields = input?.fields
                        currentLineIndex = input?.line ?? 0
                    }
                    try encoder.encode(
                        line: line,
                        groups: groupsMatched,
                        context: self,
                        fingerprint: origin.0,
                        offset: origin.1,
                        readTime: readTime,
                        into: &output
                    )
                    // The operation is `output[start...]`, where the encoder appended it.
                    emitEncoded(start, plan.name, origin.1)
                    if !plan.continues { break }
                    continue
                } catch {
                    // Rejected or unusual: the template builds it and words the reason.
                    output.truncate(to: start)
                    encoderFallbacks += 1
                }
            }
            let context = LineContext(
                line: line, groups: groupsMatched, fields: fields, path: path, source: source,
                inputFields: input?.fields, lineIndex: input?.line ?? 0)
            buildSlowly(plan, context, index: index, origin: origin, readTime: readTime, emit: emit)
            if !plan.continues { break }
        }
        if !matchedAny { stats.unmatched += 1 }
    }

    /// Builds a taken line's operation as a `JSONValue` and writes it with ``JSONWriter``:
    /// for rules without an encoder, and for what their encoder leaves to the template.
    private func buildSlowly(
        _ plan: RulePlan,
        _ context: borrowing LineContext,
        index: Int,
        origin: (FileFingerprint, UInt64),
        readTime: Int64,
        emit: (RuleOutcome) -> Void
    ) {
        let built = plan.operation.build(
            context,
            origin: .init(fingerprint: origin.0, offset: origin.1, rule: plan.name, readTime: readTime)
        )
        switch built {
        case .success(let operation):
            var writer = JSONWriter()
            writer.write(operation)
            if !TrackLimits.allowsOperation(bytes: writer.bytes.count) {
                stats.perRule[index].invalid += 1
                emit(
                    .rejected(
                        RejectedOperation(
                            bytes: writer.bytes,
                            rule: plan.name,
                            lineOffset: origin.1,
                            reason:
                                "operation is \(writer.bytes.count) bytes encoded; Track allows \(TrackLimits.operationBytes)"
                        )
                    )
                )
            } else {
                emit(.operation(EncodedOperation(bytes: writer.bytes, rule: plan.name, lineOffset: origin.1)))
            }
        case .failure(let rejection):
            stats.perRule[index].invalid += 1
            var writer = JSONWriter()
            writer.write(rejection.partial)
            emit(
                .rejected(
                    RejectedOperation(
                        bytes: writer.bytes, rule: plan.name, lineOffset: origin.1, reason: rejection.reason)))
        }
    }

    /// A cheap pre-check: JSON object lines start with `{` after optional spaces.
    private static func looksLikeJSON(_ line: UnsafeRawBufferPointer) -> Bool {
        for byte in line {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { continue }
            return byte == UInt8(ascii: "{")
        }
        return false
    }
}

/// The evaluator makes the context of the line being evaluated for the encoder, from what it
/// keeps of that line, so that the encoder builds one only when a value needs it.
extension RuleEvaluator: LineContextSource {
    func lineContext(_ line: UnsafeRawBufferPointer) -> LineContext {
        LineContext(
            line: line, groups: currentHasGroups ? groups : nil, fields: currentFields, path: currentPath,
            source: currentSource, inputFields: currentInputFields, lineIndex: currentLineIndex)
    }
}

/// The parts of a ``Rule`` a taken line needs, behind one reference: reading them costs one
/// retain instead of a copy of the whole rule.
private final class RulePlan {
    let name: String
    let continues: Bool
    let conditions: [FieldCondition]
    let operation: OperationTemplate
    let encoder: OperationEncoder?

    init(_ rule: Rule) {
        name = rule.name
        continues = rule.continues
        conditions = rule.conditions
        operation = rule.operation
        encoder = rule.encoder
    }
}

/// The rules that apply to one source.
private struct ApplicableRules {
    /// Their indices, in order.
    var indices: [Int]
    /// Each one's ``RequiredLiteral``, when every one of them is a regex that has one.
    var literals: [LiteralFinder]?
}

/// What ``PackedOperations`` lists besides the bytes, gathered while a chunk is processed.
struct ListedOperations {
    var ends: [Int] = []
    var rules: [String] = []
    var lineOffsets: [UInt64] = []
}
