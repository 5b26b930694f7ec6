/// Groups log lines into templates in one pass, in memory bounded by the number of
/// templates, not of lines.
///
/// Each line is analyzed (``LineAnalyzer``) into a signature: the header's shape plus every
/// content token, constant words kept and variable tokens reduced to their type. Lines with
/// a signature already seen go straight to its template (one hash look-up: the fast path).
/// A new signature is compared with the templates of the same header shape, token count and
/// first word; when enough positions agree it joins the most similar one, the positions
/// that differ becoming ``SlotType/any`` slots, else it starts a template of its own.
/// Beyond ``Limits/templates`` a new signature joins its nearest template whatever the
/// similarity; beyond ``Limits/signatures`` lines are compared without being remembered.
public final class TemplateMiner {
    /// The bounds on memory.
    public struct Limits: Sendable {
        /// Templates kept; past it, new shapes merge into the nearest template.
        public var templates: Int
        /// Distinct signatures remembered for the fast path.
        public var signatures: Int
        /// Example lines kept per template.
        public var examples: Int

        public init(templates: Int = 5_000, signatures: Int = 200_000, examples: Int = 2) {
            self.templates = templates
            self.signatures = signatures
            self.examples = examples
        }
    }

    /// One position of a template.
    public enum Token: Sendable, Equatable {
        case word([UInt8])
        case slot(SlotType, prefix: [UInt8], suffix: [UInt8])
    }

    /// A template as mined so far.
    public struct Template: Sendable {
        /// 1-based, in order of first appearance: what `--assign` prints.
        public var id: Int
        public var tokens: [Token]
        public var count: Int
        public var examples: [[UInt8]]
        /// Structured lines (JSON, logfmt): what the template is keyed on.
        public var structured: StructuredKey?
        var shapeHash: UInt64
    }

    /// The fraction of positions that must agree for a new signature to join a template.
    let similarity: Double
    public let limits: Limits
    @exclusivity(unchecked) public private(set) var templates: [Template] = []
    @exclusivity(unchecked) public private(set) var lines = 0
    public var signatureCount: Int { bySignature.count }
    // One thread uses a miner: no run-time exclusivity check on every line.
    @exclusivity(unchecked) private var analyzer = LineAnalyzer()
    @exclusivity(unchecked) private var bySignature: [UInt64: Int32] = [:]
    private var byBucket: [UInt64: [Int32]] = [:]
    private var structured = StructuredLineKeyer()

    public init(limits: Limits = Limits(), similarity: Double = 0.7) {
        self.limits = limits
        self.similarity = similarity
    }

    /// Adds `line` (no newline) and returns the id of the template it joined.
    @discardableResult
    public func add(_ line: UnsafeRawBufferPointer) -> Int {
        lines += 1
        if let first = firstNonSpace(line), first == UInt8(ascii: "{") || structured.mightBeLogfmt(line) {
            if let key = structured.key(line) {
                return addStructured(key, line: line)
            }
        }
        analyzer.analyze(line)
        let signature = analyzer.signature
        if let known = bySignature[signature] {
            let index = Int(known)
            templates[index].count += 1
            if templates[index].examples.count < limits.examples { templates[index].examples.append(Array(line)) }
            return index + 1
        }
        let index = place(line)
        if bySignature.count < limits.signatures { bySignature[signature] = Int32(index) }
        templates[index].count += 1
        if templates[index].examples.count < limits.examples { templates[index].examples.append(Array(line)) }
        return index + 1
    }

    /// The id of the template `line` would join, without changing any template (for a
    /// second pass over lines already added).
    public func assign(_ line: UnsafeRawBufferPointer) -> Int {
        if let first = firstNonSpace(line), first == UInt8(ascii: "{") || structured.mightBeLogfmt(line),
            let key = structured.key(line)
        {
            return (structuredIndex[key.hash].map { Int($0) } ?? templates.count - 1) + 1
        }
        analyzer.analyze(line)
        if let known = bySignature[analyzer.signature] { return Int(known) + 1 }
        // A signature the full table did not keep: placed as `add` placed it.
        let tokens = currentTokens(line)
        let shape = analyzer.shapeHash
        if let best = nearest(tokens, shape: shape), best.score >= similarity || templates.count >= limits.templates {
            return best.index + 1
        }
        if let index = overflow[overflowKey(count: tokens.count, shape: shape)] { return index + 1 }
        return (nearest(tokens, shape: shape)?.index ?? 0) + 1
    }

    // MARK: - Placing a new signature

    private func firstNonSpace(_ line: UnsafeRawBufferPointer) -> UInt8? {
        for byte in line where byte != 0x20 && byte != 0x09 { return byte }
        return nil
    }

    private func currentTokens(_ line: UnsafeRawBufferPointer) -> [Token] {
        analyzer.tokens.map { token in
            if let slot = token.slot {
                return .slot(
                    slot, prefix: Array(line[token.start..<token.coreStart]),
                    suffix: Array(line[token.coreEnd..<token.end]))
            }
            return .word(Array(line[token.start..<token.end]))
        }
    }

    private func bucket(_ tokens: [Token], shape: UInt64) -> UInt64 {
        var hash = Hash64()
        for shift in stride(from: 0, to: 64, by: 8) { hash.add(UInt8(truncatingIfNeeded: shape >> UInt64(shift))) }
        hash.add(UInt8(truncatingIfNeeded: tokens.count))
        hash.add(UInt8(truncatingIfNeeded: tokens.count >> 8))
        // The first word splits the bucket, as the first level of Drain's tree does.
        if case .word(let word)? = tokens.first {
            for byte in word { hash.add(byte) }
        } else {
            hash.add(0xFF)
        }
        return hash.value
    }

    private func nearest(_ tokens: [Token], shape: UInt64) -> (index: Int, score: Double)? {
        guard let candidates = byBucket[bucket(tokens, shape: shape)] else { return nil }
        var best: (index: Int, score: Double)?
        for candidate in candidates {
            let score = Self.score(templates[Int(candidate)].tokens, tokens)
            if score > (best?.score ?? -1) { best = (Int(candidate), score) }
        }
        return best
    }

    /// The share of positions where `template` and `tokens` agree: the same word, or slots
    /// on both sides.
    static func score(_ template: [Token], _ tokens: [Token]) -> Double {
        guard !tokens.isEmpty else { return 1 }
        var same = 0
        var words = 0
        for (left, right) in zip(template, tokens) {
            switch (left, right) {
            case (.word(let a), .word(let b)):
                words += 1
                if a == b { same += 1 }
            case (.slot, .slot): same += 1
            default: words += 1
            }
        }
        guard words > 0 else { return 1 }
        // Positions holding words on either side decide; slots on both sides neither help
        // nor hurt, so that a template of mostly values is not joined by any other.
        return Double(same - (tokens.count - words)) / Double(words)
    }

    /// The index of the template the analyzed line's new signature joins (created if need be).
    private func place(_ line: UnsafeRawBufferPointer) -> Int {
        let tokens = currentTokens(line)
        let shape = analyzer.shapeHash
        if let best = nearest(tokens, shape: shape),
            best.score >= similarity || templates.count >= limits.templates
        {
            templates[best.index].tokens = Self.merge(templates[best.index].tokens, tokens)
            return best.index
        }
        if templates.count >= limits.templates, let overflow = overflowTemplate(count: tokens.count, shape: shape) {
            return overflow
        }
        let index = templates.count
        templates.append(
            Template(id: index + 1, tokens: tokens, count: 0, examples: [], structured: nil, shapeHash: shape))
        byBucket[bucket(tokens, shape: shape), default: []].append(Int32(index))
        return index
    }

    /// Past the template cap, one all-slot template per header shape and token count takes
    /// the lines no existing template is near; `nil` when that one exists already and is full.
    private var overflow: [UInt64: Int] = [:]

    private func overflowKey(count: Int, shape: UInt64) -> UInt64 {
        var hash = Hash64()
        for shift in stride(from: 0, to: 64, by: 8) { hash.add(UInt8(truncatingIfNeeded: shape >> UInt64(shift))) }
        hash.add(UInt8(truncatingIfNeeded: count))
        hash.add(UInt8(truncatingIfNeeded: count >> 8))
        return hash.value
    }

    private func overflowTemplate(count: Int, shape: UInt64) -> Int? {
        let key = overflowKey(count: count, shape: shape)
        if let index = overflow[key] { return index }
        let index = templates.count
        let tokens = [Token](repeating: .slot(.any, prefix: [], suffix: []), count: count)
        templates.append(
            Template(id: index + 1, tokens: tokens, count: 0, examples: [], structured: nil, shapeHash: shape))
        overflow[key] = index
        return index
    }

    /// `template` generalized to take `tokens` too.
    static func merge(_ template: [Token], _ tokens: [Token]) -> [Token] {
        var merged = template
        for (index, token) in tokens.enumerated() where index < merged.count && merged[index] != token {
            merged[index] = .slot(.any, prefix: [], suffix: [])
        }
        return merged
    }

    // MARK: - Structured lines

    private var structuredIndex: [UInt64: Int32] = [:]

    private func addStructured(_ key: StructuredKey, line: UnsafeRawBufferPointer) -> Int {
        let index: Int
        if let known = structuredIndex[key.hash] {
            index = Int(known)
        } else if templates.count >= limits.templates, let last = templates.indices.last {
            index = last
        } else {
            index = templates.count
            templates.append(
                Template(id: index + 1, tokens: [], count: 0, examples: [], structured: key, shapeHash: 0))
            structuredIndex[key.hash] = Int32(index)
        }
        templates[index].count += 1
        if templates[index].examples.count < limits.examples { templates[index].examples.append(Array(line)) }
        return index + 1
    }
}
