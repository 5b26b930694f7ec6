import Glibc

/// Time spent in one stage, summed over the blocks it ran on.
public struct StageTiming: Sendable, Equatable {
    public var name: String
    /// Wall seconds.
    public var seconds: Double
    /// CPU seconds of the measuring thread.
    public var cpuSeconds: Double
    public var lines: Int
    /// Input bytes (uncompressed).
    public var bytes: Int
    /// Operations produced (0 for stages that make none).
    public var operations: Int

    public init(name: String, seconds: Double, cpuSeconds: Double, lines: Int, bytes: Int, operations: Int) {
        self.name = name
        self.seconds = seconds
        self.cpuSeconds = cpuSeconds
        self.lines = lines
        self.bytes = bytes
        self.operations = operations
    }
}

/// Runs each pipeline stage on its own over a generated file, with the agent's real types:
/// ``PlainFileReader`` / ``GzipFileReader`` + ``LineFramer`` (read+split), the rules' regex
/// matchers alone, behind the required-literal screen the rules use (match), and
/// ``RuleEvaluator/process(_:readTime:)`` (match + build + encode; encode is the difference).
///
/// One pass reads the file block by block as the tailer does (1 MiB reads, one chunk per
/// block) and times each stage's calls separately, so memory stays bounded by one block.
struct StageBenchmark {
    let ruleSet: RuleSet
    let source: String
    let maxLineBytes: Int
    let blockBytes = 1 << 20

    /// Times read+split, match and rules over the plain file at `path`.
    func runPlain(path: String) throws -> [StageTiming] {
        let reader = try PlainFileReader(path: path, bufferBytes: blockBytes)
        defer { reader.close() }
        return try run(reader: reader, readName: "read+split", withRules: true)
    }

    /// Times read+split (decompression included) over the .gz at `path`.
    func runGzip(path: String) throws -> StageTiming {
        let reader = try GzipFileReader(path: path, bufferBytes: blockBytes)
        defer { reader.close() }
        return try run(reader: reader, readName: "gunzip+split", withRules: false)[0]
    }

    private func run(reader: any LogFileReader, readName: String, withRules: Bool) throws -> [StageTiming] {
        var framer = LineFramer(maxLineBytes: maxLineBytes)
        var read = StageTiming(name: readName, seconds: 0, cpuSeconds: 0, lines: 0, bytes: 0, operations: 0)
        var match = StageTiming(name: "match", seconds: 0, cpuSeconds: 0, lines: 0, bytes: 0, operations: 0)
        var rules = StageTiming(name: "match+encode", seconds: 0, cpuSeconds: 0, lines: 0, bytes: 0, operations: 0)
        let evaluator = ruleSet.makeEvaluator()
        let matchers = ruleSet.rules.compactMap { rule -> CompiledRegex? in
            guard rule.sources?.contains(source) ?? true, case .regex(let regex) = rule.matcher else { return nil }
            return regex
        }
        let literals: [LiteralFinder]? =
            matchers.allSatisfy { $0.requiredLiteral != nil } && !matchers.isEmpty
            ? matchers.compactMap(\.requiredLiteral) : nil
        let matchData = RegexMatchData(groups: ruleSet.rules.map(\.captureCount).max() ?? 0)
        let readTime = Int64(time(nil))
        var fingerprint = FileFingerprint(value: 0, length: 0)
        var readEnd: UInt64 = 0
        while true {
            let before = StageClock.now()
            let outcome = try reader.read(maxBytes: blockBytes) { framer.append($0) }
            let taken = framer.takeChunk()
            read.add(since: before)
            guard case .bytes = outcome, let taken else {
                if case .bytes = outcome { continue }
                break
            }
            read.lines += taken.lines.count
            read.bytes += Int(taken.endOffset - readEnd)
            readEnd = taken.endOffset
            guard withRules else { continue }
            if read.lines == taken.lines.count {
                let head = min(taken.bytes.count, FileFingerprint.headLimit)
                fingerprint =
                    taken.bytes.withUnsafeBytes {
                        FileFingerprint.compute(head: UnsafeRawBufferPointer(rebasing: $0[0..<head]))
                    }
                    ?? fingerprint
            }

            let matchStart = StageClock.now()
            var matched = 0
            taken.bytes.withUnsafeBytes { buffer in
                // As the rules do: lines without a required literal are not offered to PCRE2.
                var screen = literals.flatMap { LineScreen($0, in: buffer) }
                for span in taken.lines {
                    if screen?.anyLiteral(from: span.start, to: span.start + span.length) == false { continue }
                    let line = UnsafeRawBufferPointer(rebasing: buffer[span.start..<(span.start + span.length)])
                    for regex in matchers where regex.matches(line, using: matchData) {
                        matched += 1
                        break
                    }
                }
            }
            match.add(since: matchStart)
            match.operations += matched

            let chunk = LineChunk(
                source: source, path: reader.path, fingerprint: fingerprint, file: FileKey(rawValue: 1),
                bytes: taken.bytes, lines: taken.lines, endOffset: taken.endOffset)
            let rulesStart = StageClock.now()
            let operations = evaluator.process(chunk, readTime: readTime)
            rules.add(since: rulesStart)
            rules.operations += operations.operations.count
        }
        match.lines = read.lines
        match.bytes = read.bytes
        rules.lines = read.lines
        rules.bytes = read.bytes
        return withRules ? [read, match, rules] : [read]
    }
}

extension StageTiming {
    fileprivate mutating func add(since start: StageClock.Reading) {
        let end = StageClock.now()
        seconds += end.wall - start.wall
        cpuSeconds += end.cpu - start.cpu
    }
}

/// Wall (monotonic) and this thread's CPU time, in seconds.
enum StageClock {
    struct Reading {
        var wall: Double
        var cpu: Double
    }

    static func now() -> Reading {
        Reading(wall: seconds(CLOCK_MONOTONIC), cpu: seconds(CLOCK_THREAD_CPUTIME_ID))
    }

    private static func seconds(_ clock: clockid_t) -> Double {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
