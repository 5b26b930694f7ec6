import Foundation

/// Everything one `tailtrack bench` run measured, printable as text or JSON.
public struct BenchReport: Sendable, Codable {
    public struct Workload: Sendable, Codable {
        public var lines: Int
        public var lineBytes: Int
        public var matchRatio: Double
        public var expectedOperations: Int
        public var plainBytes: Int
        public var gzipBytes: Int
        public var directory: String
    }

    /// One measured thing: a stage, a baseline command or an end-to-end run.
    public struct Figure: Sendable, Codable {
        public var name: String
        /// How it was measured (a shell command for baselines).
        public var command: String
        public var seconds: Double
        public var cpuSeconds: Double
        public var lines: Int
        public var bytes: Int
        public var operations: Int
        /// Peak RSS of the process measured, when it is a process of its own.
        public var peakRSSBytes: Int?
        /// HTTP requests the sink answered (end to end only).
        public var requests: Int?
        /// The baseline this is compared with, and our throughput divided by its.
        public var baseline: String?
        public var ratioToBaseline: Double?

        public var linesPerSecond: Double { seconds > 0 ? Double(lines) / seconds : 0 }
        public var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / 1e6 / seconds : 0 }
        public var operationsPerSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }
        public var linesPerCPUSecond: Double { cpuSeconds > 0 ? Double(lines) / cpuSeconds : 0 }

        enum CodingKeys: String, CodingKey {
            case name, command, seconds, cpuSeconds = "cpu_seconds", lines, bytes, operations
            case peakRSSBytes = "peak_rss_bytes", requests, baseline, ratioToBaseline = "ratio_to_baseline"
            case linesPerSecond = "lines_per_second", megabytesPerSecond = "mb_per_second"
            case operationsPerSecond = "operations_per_second", linesPerCPUSecond = "lines_per_cpu_second"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(command, forKey: .command)
            try container.encode(seconds, forKey: .seconds)
            try container.encode(cpuSeconds, forKey: .cpuSeconds)
            try container.encode(lines, forKey: .lines)
            try container.encode(bytes, forKey: .bytes)
            try container.encode(operations, forKey: .operations)
            try container.encodeIfPresent(peakRSSBytes, forKey: .peakRSSBytes)
            try container.encodeIfPresent(requests, forKey: .requests)
            try container.encodeIfPresent(baseline, forKey: .baseline)
            try container.encodeIfPresent(ratioToBaseline, forKey: .ratioToBaseline)
            try container.encode(linesPerSecond, forKey: .linesPerSecond)
            try container.encode(megabytesPerSecond, forKey: .megabytesPerSecond)
            try container.encode(operationsPerSecond, forKey: .operationsPerSecond)
            try container.encode(linesPerCPUSecond, forKey: .linesPerCPUSecond)
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            command = try container.decode(String.self, forKey: .command)
            seconds = try container.decode(Double.self, forKey: .seconds)
            cpuSeconds = try container.decode(Double.self, forKey: .cpuSeconds)
            lines = try container.decode(Int.self, forKey: .lines)
            bytes = try container.decode(Int.self, forKey: .bytes)
            operations = try container.decode(Int.self, forKey: .operations)
            peakRSSBytes = try container.decodeIfPresent(Int.self, forKey: .peakRSSBytes)
            requests = try container.decodeIfPresent(Int.self, forKey: .requests)
            baseline = try container.decodeIfPresent(String.self, forKey: .baseline)
            ratioToBaseline = try container.decodeIfPresent(Double.self, forKey: .ratioToBaseline)
        }

        init(
            name: String, command: String, seconds: Double, cpuSeconds: Double, lines: Int, bytes: Int,
            operations: Int, peakRSSBytes: Int? = nil, requests: Int? = nil
        ) {
            self.name = name
            self.command = command
            self.seconds = seconds
            self.cpuSeconds = cpuSeconds
            self.lines = lines
            self.bytes = bytes
            self.operations = operations
            self.peakRSSBytes = peakRSSBytes
            self.requests = requests
        }

        /// Sets ``ratioToBaseline`` to this figure's lines/s over `other`'s.
        mutating func compare(with other: Figure?) {
            guard let other, other.linesPerSecond > 0 else { return }
            baseline = other.name
            ratioToBaseline = linesPerSecond / other.linesPerSecond
        }
    }

    /// CPU used by the agent while it had nothing to read.
    public struct Idle: Sendable, Codable {
        public var files: Int
        public var seconds: Double
        public var cpuSeconds: Double
        public var cpuPercent: Double { seconds > 0 ? cpuSeconds / seconds * 100 : 0 }

        enum CodingKeys: String, CodingKey {
            case files, seconds, cpuSeconds = "cpu_seconds", cpuPercent = "cpu_percent"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(files, forKey: .files)
            try container.encode(seconds, forKey: .seconds)
            try container.encode(cpuSeconds, forKey: .cpuSeconds)
            try container.encode(cpuPercent, forKey: .cpuPercent)
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            files = try container.decode(Int.self, forKey: .files)
            seconds = try container.decode(Double.self, forKey: .seconds)
            cpuSeconds = try container.decode(Double.self, forKey: .cpuSeconds)
        }

        init(files: Int, seconds: Double, cpuSeconds: Double) {
            self.files = files
            self.seconds = seconds
            self.cpuSeconds = cpuSeconds
        }
    }

    /// CPU and memory of the agent following many files while a few of them are written to.
    public struct ManyFiles: Sendable, Codable {
        public var files: Int
        public var active: Int
        public var writesPerSecond: Int
        public var seconds: Double
        public var cpuSeconds: Double
        /// `cpuSeconds` over `seconds`, in percent of one core.
        public var cpuPercent: Double
        public var peakRSSBytes: Int?
        public var linesWritten: Int
        public var operationsDelivered: Int

        enum CodingKeys: String, CodingKey {
            case files, active, writesPerSecond = "writes_per_second", seconds, cpuSeconds = "cpu_seconds"
            case cpuPercent = "cpu_percent", peakRSSBytes = "peak_rss_bytes", linesWritten = "lines_written"
            case operationsDelivered = "operations_delivered"
        }

        init(
            files: Int, active: Int, writesPerSecond: Int, seconds: Double, cpuSeconds: Double, peakRSSBytes: Int?,
            linesWritten: Int, operationsDelivered: Int
        ) {
            self.files = files
            self.active = active
            self.writesPerSecond = writesPerSecond
            self.seconds = seconds
            self.cpuSeconds = cpuSeconds
            self.cpuPercent = seconds > 0 ? cpuSeconds / seconds * 100 : 0
            self.peakRSSBytes = peakRSSBytes
            self.linesWritten = linesWritten
            self.operationsDelivered = operationsDelivered
        }
    }

    /// Memory of the agent following a growing log while the endpoint answers nothing, and
    /// its catch-up once the endpoint answers again.
    public struct Stalled: Sendable, Codable {
        /// How long the log grew with the endpoint stalled.
        public var seconds: Double
        public var bytesWritten: Int
        public var linesWritten: Int
        /// The agent's CPU over the stall.
        public var cpuSeconds: Double
        /// `VmHWM` at the end of the stall, start-up included.
        public var peakRSSBytes: Int
        /// Largest `VmRSS` sampled in the first and in the second half of the stall: memory
        /// that grew with the log would show as a second half larger than the first.
        public var firstHalfRSSBytes: Int
        public var secondHalfRSSBytes: Int
        /// Requests the sink read and never answered, and the operations in them (resends
        /// after timeouts included).
        public var unansweredRequests: Int
        public var unansweredOperations: Int
        /// Matching lines written: the operations that must arrive after the stall.
        public var operationsExpected: Int
        /// Operations the sink answered for after the stall, a second after the last expected
        /// one arrived (more than expected means some arrived twice).
        public var operationsDelivered: Int
        /// From the sink answering again to the last expected operation.
        public var recoverySeconds: Double

        enum CodingKeys: String, CodingKey {
            case seconds, bytesWritten = "bytes_written", linesWritten = "lines_written", cpuSeconds = "cpu_seconds"
            case peakRSSBytes = "peak_rss_bytes", firstHalfRSSBytes = "first_half_rss_bytes"
            case secondHalfRSSBytes = "second_half_rss_bytes", unansweredRequests = "unanswered_requests"
            case unansweredOperations = "unanswered_operations", operationsExpected = "operations_expected"
            case operationsDelivered = "operations_delivered", recoverySeconds = "recovery_seconds"
        }
    }

    public var workload: Workload
    /// Each stage alone, in this process.
    public var stages: [Figure] = []
    /// The machine's own tools on the same files.
    public var baselines: [Figure] = []
    /// `tailtrack run` in a child process, to the in-process sink over HTTP.
    public var endToEnd: [Figure] = []
    public var idle: Idle?
    public var manyFiles: ManyFiles?
    public var stalled: Stalled?
    /// CPU seconds the sink (this process) used during the end-to-end runs.
    public var sinkCPUSeconds: Double?
    /// How the agent links the Swift runtime and Foundation: `static` (as the .deb ships it,
    /// `swift build -c release --static-swift-stdlib`) or `dynamic` (a plain `swift build`),
    /// which maps their shared libraries and runs 4–5 MB higher in RSS.
    public var agentSwiftRuntime: String?

    enum CodingKeys: String, CodingKey {
        case workload, stages, baselines, endToEnd = "end_to_end", idle, manyFiles = "many_files", stalled
        case sinkCPUSeconds = "sink_cpu_seconds", agentSwiftRuntime = "agent_swift_runtime"
    }

    /// The report as pretty-printed JSON.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The report as a text table.
    public var text: String {
        var out: [String] = []
        let w = workload
        out.append(
            "workload: \(w.lines) lines of \(w.lineBytes) bytes, \(Self.percent(w.matchRatio)) matching "
                + "→ \(w.expectedOperations) operations; plain \(Self.megabytes(w.plainBytes))"
                + (w.gzipBytes > 0 ? ", gz \(Self.megabytes(w.gzipBytes))" : "") + " in \(w.directory)")
        let header =
            Self.row(["", "lines/s", "MB/s", "ops/s", "wall s", "CPU s", "lines/CPU-s", "peak RSS", "vs baseline"])
        for (title, figures) in [
            ("stages (this process, one thread)", stages), ("baselines", baselines),
            ("end to end (tailtrack run → HTTP → sink)", endToEnd),
        ] where !figures.isEmpty {
            out.append("")
            out.append(title)
            out.append(header)
            for figure in figures {
                out.append(
                    Self.row([
                        figure.name,
                        Self.rate(figure.linesPerSecond),
                        String(format: "%.1f", figure.megabytesPerSecond),
                        figure.operations > 0 ? Self.rate(figure.operationsPerSecond) : "",
                        String(format: "%.3f", figure.seconds),
                        String(format: "%.3f", figure.cpuSeconds),
                        Self.rate(figure.linesPerCPUSecond),
                        figure.peakRSSBytes.map(Self.megabytes) ?? "",
                        figure.ratioToBaseline.map { String(format: "%.2f × %@", $0, figure.baseline ?? "") } ?? "",
                    ]))
            }
        }
        if let sinkCPUSeconds {
            out.append(String(format: "sink (this process) CPU during end-to-end runs: %.3f s", sinkCPUSeconds))
        }
        switch agentSwiftRuntime {
        case "dynamic":
            out.append(
                "agent: Swift runtime linked dynamically; the packaged build links it statically "
                    + "(swift build -c release --static-swift-stdlib) and runs 4–5 MB lower in RSS")
        case "static": out.append("agent: Swift runtime linked statically, as packaged")
        default: break
        }
        if let idle {
            out.append("")
            out.append(
                String(
                    format: "idle: %d followed files, %.1f s: %.3f CPU s = %.2f %% CPU", idle.files, idle.seconds,
                    idle.cpuSeconds, idle.cpuPercent))
        }
        if let many = manyFiles {
            out.append(
                String(
                    format: "many files: %d followed, %d written %d×/s, %.1f s: %.3f CPU s = %.2f %% CPU, peak RSS %@; "
                        + "%d lines written, %d operations delivered",
                    many.files, many.active, many.writesPerSecond, many.seconds, many.cpuSeconds, many.cpuPercent,
                    many.peakRSSBytes.map(Self.megabytes) ?? "?", many.linesWritten, many.operationsDelivered))
        }
        if let stalled {
            out.append(
                String(
                    format: "stalled endpoint: log grew %@ in %.1f s, nothing answered: peak RSS %@ (largest RSS "
                        + "%@ in the first half, %@ in the second), %.3f CPU s; %d requests (%d operations) "
                        + "left unanswered; answering again: %d of %d operations in %.1f s",
                    Self.megabytes(stalled.bytesWritten), stalled.seconds, Self.megabytes(stalled.peakRSSBytes),
                    Self.megabytes(stalled.firstHalfRSSBytes), Self.megabytes(stalled.secondHalfRSSBytes),
                    stalled.cpuSeconds, stalled.unansweredRequests, stalled.unansweredOperations,
                    stalled.operationsDelivered, stalled.operationsExpected, stalled.recoverySeconds))
        }
        return out.joined(separator: "\n")
    }

    private static func row(_ cells: [String]) -> String {
        let widths = [16, 10, 9, 10, 8, 8, 12, 10, 0]
        return zip(cells, widths).enumerated().map { index, pair in
            let (cell, width) = pair
            let padding = String(repeating: " ", count: max(0, width - cell.count))
            return index == 0 ? cell + padding : padding + cell
        }.joined(separator: " ")
    }

    static func rate(_ value: Double) -> String {
        if value >= 1e6 { return String(format: "%.2f M", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1f k", value / 1e3) }
        return String(format: "%.0f", value)
    }

    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1e6)
    }

    static func percent(_ ratio: Double) -> String {
        String(format: "%.0f %%", ratio * 100)
    }
}
