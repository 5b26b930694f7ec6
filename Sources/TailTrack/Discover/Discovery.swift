import Glibc

/// `tailtrack discover`: reads log files (plain or `.gz`, or standard input) through the
/// daemon's own readers and line framer, mines their line templates (``TemplateMiner``) and
/// reports them as text, as JSON, as starter rules, or as one template id per line.
public final class Discovery {
    /// Lines longer than this are cut into the framer's skipped count; big enough that a
    /// real log line is never skipped (which would shift `--assign`'s output).
    static let maxLineBytes = 16 << 20

    public let miner: TemplateMiner
    public private(set) var skippedLines = 0

    public init(limits: TemplateMiner.Limits = TemplateMiner.Limits()) {
        self.miner = TemplateMiner(limits: limits)
    }

    /// Reads every line of `paths` (`-`: standard input) into the miner.
    public func read(paths: [String]) throws(DryRun.InputError) {
        for path in paths {
            skippedLines += try Self.forEachLine(of: path) { line in miner.add(line) }
        }
    }

    /// The templates, most frequent first (the first `top` when given).
    public func templates(top: Int? = nil) -> [DiscoveredTemplate] {
        let sorted = miner.templates.filter { $0.count > 0 }.sorted {
            $0.count != $1.count ? $0.count > $1.count : $0.id < $1.id
        }
        let chosen = top.map { Array(sorted.prefix(max(0, $0))) } ?? sorted
        return chosen.map { DiscoveredTemplate($0, total: miner.lines) }
    }

    /// `--assign`: the template id of every line of `paths`, one per line, in order. Files
    /// are read twice (mined, then assigned) so that memory stays bounded by templates;
    /// standard input is read once and its ids kept.
    public static func assign(
        paths: [String], limits: TemplateMiner.Limits = TemplateMiner.Limits(), output: ([UInt8]) -> Void
    ) throws(DryRun.InputError) {
        let miner = TemplateMiner(limits: limits)
        if paths.contains("-") {
            var ids: [UInt32] = []
            for path in paths {
                try forEachLine(of: path) { line in ids.append(UInt32(miner.add(line))) }
            }
            var buffer: [UInt8] = []
            for id in ids { appendLine(id: Int(id), to: &buffer, output: output) }
            output(buffer)
            return
        }
        for path in paths {
            try forEachLine(of: path) { line in miner.add(line) }
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        for path in paths {
            try forEachLine(of: path) { line in appendLine(id: miner.assign(line), to: &buffer, output: output) }
        }
        output(buffer)
    }

    private static func appendLine(id: Int, to buffer: inout [UInt8], output: ([UInt8]) -> Void) {
        buffer += String(id).utf8
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 {
            output(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    // MARK: - Reports

    /// The default report: count, share, template, two examples per template.
    public func textReport(top: Int) -> String {
        let shown = templates(top: top)
        var out = "\(miner.lines) lines, \(miner.templates.filter { $0.count > 0 }.count) templates"
        out += shown.count < miner.templates.count ? " (the \(shown.count) most frequent below)\n\n" : "\n\n"
        for template in shown {
            let percent = (template.share * 1000).rounded() / 10
            out += "#\(template.id)  \(template.count) lines  \(percent)%\n  \(template.text)\n"
            if !template.slots.isEmpty {
                out += "  slots: " + template.slots.map { "\($0.name) (\($0.type))" }.joined(separator: ", ") + "\n"
            }
            for example in template.examples { out += "    " + Self.shortened(example) + "\n" }
            out += "\n"
        }
        if skippedLines > 0 { out += "skipped over-long lines: \(skippedLines)\n" }
        return out
    }

    /// `--json`: one object per template, one per line.
    public func jsonReport(top: Int, source: String?) -> [UInt8] {
        var out: [UInt8] = []
        for template in templates(top: top) {
            var writer = JSONWriter()
            writer.append("{\"id\":")
            writer.writeInteger(Int64(template.id))
            writer.append(",\"template\":")
            writer.writeString(template.text)
            writer.append(",\"count\":")
            writer.writeInteger(Int64(template.count))
            writer.append(",\"share\":")
            writer.append(raw: Array(JSONWriter.format((template.share * 10000).rounded() / 10000).utf8))
            writer.append(",\"examples\":[")
            for (index, example) in template.examples.enumerated() {
                if index > 0 { writer.append(",") }
                writer.writeString(example)
            }
            writer.append("],\"slots\":[")
            for (index, slot) in template.slots.enumerated() {
                if index > 0 { writer.append(",") }
                writer.append("{\"name\":")
                writer.writeString(slot.name)
                writer.append(",\"type\":")
                writer.writeString(slot.type)
                writer.append("}")
            }
            writer.append("],\"rule\":")
            writer.writeString(StarterRules.yaml(for: [template], source: source, origin: "one template"))
            writer.append("}\n")
            out += writer.bytes
        }
        return out
    }

    private static func shortened(_ line: String) -> String {
        line.count > 200 ? String(line.prefix(200)) + "…" : line
    }

    // MARK: - Reading

    /// Calls `body` with every line of `path` (plain, `.gz`, or `-` for standard input),
    /// without its line ending.
    /// Returns how many over-long lines the framer skipped.
    @discardableResult
    static func forEachLine(of path: String, _ body: (UnsafeRawBufferPointer) -> Void) throws(DryRun.InputError)
        -> Int
    {
        var framer = LineFramer(maxLineBytes: maxLineBytes)
        func drain() {
            guard let (bytes, lines, _) = framer.takeChunk() else { return }
            bytes.withUnsafeBytes { buffer in
                for span in lines {
                    body(UnsafeRawBufferPointer(rebasing: buffer[span.start..<(span.start + span.length)]))
                }
            }
        }
        if path == "-" {
            var block = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = block.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count < 0 { throw DryRun.InputError(path: "-", message: String(cString: strerror(errno))) }
                if count == 0 { break }
                block.withUnsafeBytes { framer.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                drain()
            }
        } else {
            do {
                let reader: any LogFileReader =
                    FileIdentity.isGzip(path: path) ? try GzipFileReader(path: path) : try PlainFileReader(path: path)
                defer { reader.close() }
                reading: while true {
                    switch try reader.read(maxBytes: 1 << 20, { framer.append($0) }) {
                    case .bytes:
                        drain()
                    case .endOfData:
                        break reading
                    case .truncated:
                        throw DryRun.InputError(
                            path: path,
                            message: "the gzip stream is truncated (no footer): the file may still be being written")
                    }
                }
            } catch let error as DryRun.InputError {
                throw error
            } catch {
                throw DryRun.InputError(path: path, message: "\(error)")
            }
        }
        _ = framer.flushPartial()
        drain()
        return framer.skippedLines
    }
}
