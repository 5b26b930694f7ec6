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
    ///
    /// Files go through the daemon's own readers and line framer, so what dry-run prints is
    /// what `run` would send for the same bytes (same offsets, same ids, same skipped lines).
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
            var framer = LineFramer(maxLineBytes: config.tail.maxLineBytes)
            var fingerprint: FileFingerprint?
            var head: [UInt8] = []

            func process(_ framer: inout LineFramer) {
                guard let (bytes, lines, end) = framer.takeChunk(), !lines.isEmpty else { return }
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

            try forEachBlock(of: path) { block in
                if fingerprint == nil {
                    head += block.prefix(FileFingerprint.headLimit - head.count)
                    fingerprint = head.withUnsafeBytes { FileFingerprint.compute(head: $0) }
                }
                framer.append(block)
                process(&framer)
            }
            if fingerprint == nil {
                fingerprint = (head + [UInt8(ascii: "\n")]).withUnsafeBytes { FileFingerprint.compute(head: $0) }
            }
            framer.flushPartial()
            process(&framer)
            overlong += framer.skippedLines
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

    /// Calls `body` with successive blocks of the (decompressed) content of `path`, `-` being
    /// standard input (a gzip stream there is spooled to a temporary file first).
    private func forEachBlock(of path: String, _ body: (UnsafeRawBufferPointer) -> Void) throws(InputError) {
        if path == "-" {
            try forEachBlockOfStandardInput(body)
            return
        }
        do {
            let reader: any LogFileReader =
                FileIdentity.isGzip(path: path) ? try GzipFileReader(path: path) : try PlainFileReader(path: path)
            defer { reader.close() }
            while true {
                switch try reader.read(maxBytes: 1 << 20, body) {
                case .bytes: continue
                case .endOfData: return
                case .truncated:
                    throw InputError(
                        path: path,
                        message: "the gzip stream is truncated (no footer): the file may still be being written")
                }
            }
        } catch let error as InputError {
            throw error
        } catch {
            throw InputError(path: path, message: "\(error)")
        }
    }

    private func forEachBlockOfStandardInput(_ body: (UnsafeRawBufferPointer) -> Void) throws(InputError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var spool: (path: String, descriptor: Int32)?
        defer {
            if let spool {
                close(spool.descriptor)
                unlink(spool.path)
            }
        }
        var first = true
        while true {
            let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw InputError(path: "-", message: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            if first {
                first = false
                if count >= 2, buffer[0] == 0x1F, buffer[1] == 0x8B {
                    var template = Array("/tmp/tailtrack-dry-run-XXXXXX".utf8CString)
                    let descriptor = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
                        guard let base = buffer.baseAddress else { return -1 }
                        return mkstemp(base)
                    }
                    guard descriptor >= 0 else {
                        throw InputError(
                            path: "-", message: "cannot spool gzip input: \(String(cString: strerror(errno)))")
                    }
                    spool = (
                        String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self), descriptor
                    )
                }
            }
            if let spool {
                let written = buffer.withUnsafeBytes { write(spool.descriptor, $0.baseAddress, count) }
                guard written == count else {
                    throw InputError(path: "-", message: "cannot spool gzip input: \(String(cString: strerror(errno)))")
                }
            } else {
                buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            }
        }
        if let spool {
            try forEachBlock(of: spool.path, body)
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
