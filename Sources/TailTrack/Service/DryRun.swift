import CZlib
import Glibc

/// `tailtrack dry-run`: runs the rules over files (plain or `.gz`) or standard input and
/// writes the operations that would be sent as JSON lines. Sends nothing, saves nothing.
public struct DryRun {
    /// What dry-run saw, for the summary on stderr.
    public struct Summary: Sendable {
        public var stats: RuleStats
        public var ruleNames: [String]
        public var rejected: Int
        public var overlongLines: Int

        /// The per-rule summary: lines read, matched and invalid per rule, unmatched.
        public var text: String {
            var lines = ["lines read: \(stats.lines)"]
            let width = max(4, ruleNames.map(\.count).max() ?? 0)
            for (index, name) in ruleNames.enumerated() {
                let counters = stats.perRule[index]
                let padded = name + String(repeating: " ", count: width - name.count)
                lines.append("  rule \(padded)  matched \(counters.matched)  invalid \(counters.invalid)")
            }
            lines.append("unmatched: \(stats.unmatched)")
            if overlongLines > 0 { lines.append("skipped over-long lines: \(overlongLines)") }
            return lines.joined(separator: "\n")
        }
    }

    /// An input that could not be read.
    public struct InputError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    public let config: TailTrackConfig
    public let ruleSet: RuleSet
    /// Offer lines as this source; `nil`: the source whose `paths` match the file, else all rules.
    public let source: String?

    public init(config: TailTrackConfig, ruleSet: RuleSet, source: String?) {
        self.config = config
        self.ruleSet = ruleSet
        self.source = source
    }

    /// Runs over `paths` (standard input when empty or `-`).
    /// - Parameters:
    ///   - output: receives each operation's JSON line (with its newline).
    ///   - diagnostics: receives one line per rejected operation (rule, file, offset, reason).
    public func run(
        paths: [String],
        output: ([UInt8]) -> Void,
        diagnostics: (String) -> Void
    ) throws(InputError) -> Summary {
        let evaluator = ruleSet.makeEvaluator()
        var rejected = 0
        var overlong = 0
        let readTime = Int64(time(nil))
        for path in paths.isEmpty ? ["-"] : paths {
            let sourceName = source ?? matchingSource(for: path)
            var framer = SimpleLineFramer(maxLineBytes: config.tail.maxLineBytes)
            var fingerprint: FileFingerprint?
            var head: [UInt8] = []
            try forEachBlock(of: path) { block in
                if fingerprint == nil {
                    head += block.prefix(FileFingerprint.headLimit)
                    fingerprint = head.withUnsafeBytes { FileFingerprint.compute(head: $0) }
                }
                framer.append(block)
                process(&framer, final: false)
            }
            if fingerprint == nil {
                fingerprint = (head + [UInt8(ascii: "\n")]).withUnsafeBytes { FileFingerprint.compute(head: $0) }
            }
            process(&framer, final: true)
            overlong += framer.overlongLines

            func process(_ framer: inout SimpleLineFramer, final: Bool) {
                guard let (bytes, lines, end) = framer.takeLines(final: final), !lines.isEmpty else { return }
                let chunk = LineChunk(
                    source: sourceName ?? "",
                    path: path,
                    fingerprint: fingerprint ?? FileFingerprint(value: 0, length: 0),
                    file: FileKey(rawValue: 0),
                    bytes: bytes,
                    lines: lines,
                    endOffset: end
                )
                let result =
                    sourceName == nil
                    ? evaluator.processIgnoringSources(chunk, readTime: readTime)
                    : evaluator.process(chunk, readTime: readTime)
                for operation in result.operations {
                    output(operation.bytes + [UInt8(ascii: "\n")])
                }
                for rejection in result.rejected {
                    rejected += 1
                    diagnostics(
                        "rejected: rule \"\(rejection.rule)\": \(path) offset \(rejection.lineOffset): \(rejection.reason)"
                    )
                }
            }
        }
        return Summary(
            stats: evaluator.stats, ruleNames: ruleSet.rules.map(\.name), rejected: rejected, overlongLines: overlong)
    }

    /// The first source with a `paths` glob matching `path`.
    private func matchingSource(for path: String) -> String? {
        guard path != "-" else { return nil }
        let absolute = ConfigFile.absolute(path)
        for source in config.sources {
            for pattern in source.paths where fnmatch(ConfigFile.absolute(pattern), absolute, 0) == 0 {
                return source.name
            }
        }
        return nil
    }

    /// Calls `body` with successive blocks of the (decompressed) content of `path`.
    private func forEachBlock(of path: String, _ body: ([UInt8]) -> Void) throws(InputError) {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InputError(path: path, message: String(cString: strerror(errno))) }
        defer { if fd != STDIN_FILENO { close(fd) } }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var inflater: GzipInflater?
        var first = true
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw InputError(path: path, message: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            let block = Array(buffer[0..<count])
            if first {
                first = false
                if block.count >= 2, block[0] == 0x1F, block[1] == 0x8B { inflater = GzipInflater() }
            }
            if var active = inflater {
                do {
                    try active.inflate(block, into: body)
                } catch {
                    throw InputError(path: path, message: error.description)
                }
                inflater = active
            } else {
                body(block)
            }
        }
        if let inflater, !inflater.isAtMemberEnd {
            throw InputError(
                path: path, message: "the gzip stream is truncated (no footer): the file may still be being written")
        }
    }
}

extension RuleEvaluator {
    /// Runs every rule on the chunk whatever its `sources:` say (dry-run of a file that no
    /// source's `paths` match).
    func processIgnoringSources(_ chunk: LineChunk, readTime: Int64) -> OperationChunk {
        var copy = chunk
        copy.source = RuleEvaluator.anySource
        return process(copy, readTime: readTime)
    }
}

/// Splits a byte stream into lines for dry-run.
struct SimpleLineFramer {
    let maxLineBytes: Int
    private var pending: [UInt8] = []
    private var pendingOffset: UInt64 = 0
    private var skipping = false
    private(set) var overlongLines = 0

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    mutating func append(_ block: [UInt8]) {
        pending += block
    }

    /// The complete lines buffered so far (all of it when `final`), as a buffer, spans, and
    /// the offset after the last line.
    mutating func takeLines(final: Bool) -> ([UInt8], [LineSpan], UInt64)? {
        var lines: [LineSpan] = []
        var start = 0
        var index = 0
        let count = pending.count
        pending.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            while index < count {
                guard let found = memchr(base + index, Int32(UInt8(ascii: "\n")), count - index) else { break }
                let newline = base.distance(to: UnsafeRawPointer(found))
                var end = newline
                if end > start, raw[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if skipping {
                    skipping = false
                } else if end - start > maxLineBytes {
                    overlongLines += 1
                } else {
                    lines.append(LineSpan(start: start, length: end - start, fileOffset: pendingOffset + UInt64(start)))
                }
                start = newline + 1
                index = start
            }
        }
        if final, start < count {
            if !skipping, count - start <= maxLineBytes {
                lines.append(LineSpan(start: start, length: count - start, fileOffset: pendingOffset + UInt64(start)))
            }
            start = count
        }
        let bytes = pending
        let end = pendingOffset + UInt64(start)
        pending.removeFirst(start)
        pendingOffset = end
        if pending.count > maxLineBytes {
            overlongLines += 1
            skipping = true
            pendingOffset += UInt64(pending.count)
            pending.removeAll()
        }
        return (bytes, lines, end)
    }
}

/// Streaming gzip decompression (multi-member) with zlib.
struct GzipInflater {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var stream = z_stream()
    private var initialised = false
    private(set) var isAtMemberEnd = false

    mutating func inflate(_ input: [UInt8], into body: ([UInt8]) -> Void) throws(Failure) {
        var output = [UInt8](repeating: 0, count: 1 << 18)
        var input = input
        var failure: Failure?
        input.withUnsafeMutableBytes { inputBuffer in
            guard let inputBase = inputBuffer.baseAddress else { return }
            var offset = 0
            while offset < inputBuffer.count {
                if !initialised {
                    stream = z_stream()
                    guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
                    else {
                        failure = Failure(description: "zlib could not start")
                        return
                    }
                    initialised = true
                    isAtMemberEnd = false
                }
                stream.next_in = inputBase.advanced(by: offset).assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(inputBuffer.count - offset)
                var status: Int32 = Z_OK
                repeat {
                    let produced: Int = output.withUnsafeMutableBytes { outputBuffer in
                        guard let outputBase = outputBuffer.baseAddress else { return 0 }
                        stream.next_out = outputBase.assumingMemoryBound(to: Bytef.self)
                        stream.avail_out = uInt(outputBuffer.count)
                        status = CZlib.inflate(&stream, Z_NO_FLUSH)
                        return outputBuffer.count - Int(stream.avail_out)
                    }
                    if produced > 0 { body(Array(output[0..<produced])) }
                } while status == Z_OK && stream.avail_out == 0
                let consumed = (inputBuffer.count - offset) - Int(stream.avail_in)
                offset += consumed
                if status == Z_STREAM_END {
                    inflateEnd(&stream)
                    initialised = false
                    isAtMemberEnd = true
                } else if status != Z_OK && status != Z_BUF_ERROR {
                    failure = Failure(description: "not a valid gzip stream (zlib error \(status))")
                    return
                } else if consumed == 0 && status == Z_BUF_ERROR {
                    return
                }
            }
        }
        if let failure { throw failure }
    }
}
