import CoreMetrics
import Synchronization

/// The agent's metrics, fed from ``PipelineSnapshot``s: cumulative counts become counter
/// increments, current values become gauges. Made through an injected `MetricsFactory` (the
/// Prometheus registry in the agent, a test factory in tests), never the global one.
///
/// Names follow `tailtrack_<noun>_<unit>_total`; labels come from bounded sets (source and rule
/// names from the config, retry causes from ``DeliveryError/Code``, followed file paths).
public final class PipelineMetrics: Sendable {
    /// Metric names, defined once.
    public enum Name {
        public static let readLines = "tailtrack_read_lines_total"
        public static let readBytes = "tailtrack_read_bytes_total"
        public static let unmatchedLines = "tailtrack_unmatched_lines_total"
        public static let matchedLines = "tailtrack_rule_matched_lines_total"
        public static let invalidLines = "tailtrack_rule_invalid_lines_total"
        public static let sentOperations = "tailtrack_sent_operations_total"
        public static let sentRequests = "tailtrack_sent_requests_total"
        public static let retriedRequests = "tailtrack_retried_requests_total"
        public static let deadLetterOperations = "tailtrack_dead_letter_operations_total"
        public static let lostBytes = "tailtrack_lost_bytes_total"
        public static let checkpointSaveFailures = "tailtrack_checkpoint_save_failures_total"
        public static let queueBytes = "tailtrack_queue_bytes"
        public static let behindBytes = "tailtrack_behind_bytes"
        public static let followedFiles = "tailtrack_followed_files"
        public static let unreadableFiles = "tailtrack_unreadable_files"
        public static let lastSuccess = "tailtrack_last_success_timestamp_seconds"
        public static let healthy = "tailtrack_healthy"
    }

    private struct Key: Hashable {
        var name: String
        var labels: [String]
    }

    private struct State {
        var counters: [Key: (counter: CoreMetrics.Counter, value: Int64)] = [:]
        var gauges: [Key: CoreMetrics.Gauge] = [:]
        var fileGauges: Set<Key> = []
    }

    private let factory: any MetricsFactory
    private let state = Mutex(State())

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Brings every metric up to `snapshot`. `lastSuccess` is Unix seconds (0 when none yet).
    public func update(_ snapshot: PipelineSnapshot, lastSuccess: Double?, healthy: Bool) {
        state.withLock { state in
            for (source, counters) in snapshot.rules.sources {
                count(Name.readLines, ["source", source], counters.lines, in: &state)
                count(Name.readBytes, ["source", source], counters.bytes, in: &state)
                count(Name.unmatchedLines, ["source", source], counters.unmatched, in: &state)
            }
            for (rule, counters) in snapshot.rules.rules {
                count(Name.matchedLines, ["rule", rule], counters.matched, in: &state)
                count(Name.invalidLines, ["rule", rule], counters.invalid, in: &state)
            }
            let delivery = snapshot.delivery
            count(Name.sentOperations, [], delivery.operationsSent, in: &state)
            count(Name.sentRequests, [], delivery.requests, in: &state)
            count(Name.deadLetterOperations, [], delivery.deadLetters, in: &state)
            for (cause, retries) in delivery.retries {
                count(Name.retriedRequests, ["cause", cause], retries, in: &state)
            }
            count(Name.lostBytes, [], Int(clamping: snapshot.lostBytes), in: &state)
            count(Name.checkpointSaveFailures, [], snapshot.checkpointSaveFailures, in: &state)
            gauge(Name.queueBytes, [], Double(delivery.queueBytes), in: &state)
            gauge(Name.followedFiles, [], Double(snapshot.files.followed), in: &state)
            gauge(Name.unreadableFiles, [], Double(snapshot.files.unreadable), in: &state)
            gauge(Name.lastSuccess, [], lastSuccess ?? 0, in: &state)
            gauge(Name.healthy, [], healthy ? 1 : 0, in: &state)

            var current = Set<Key>()
            // Only files that are behind get a series: with thousands of quiet files followed,
            // thousands of zero series would cost every scrape and every update.
            for file in snapshot.files.behind {
                guard let behind = file.bytesBehind, behind > 0 else { continue }
                let key = Key(name: Name.behindBytes, labels: ["source", file.source, "file", file.path])
                current.insert(key)
                gauge(key, Double(behind), in: &state)
            }
            if state.fileGauges.count != current.count || !state.fileGauges.isSubset(of: current) {
                for gone in state.fileGauges.subtracting(current) {
                    state.gauges.removeValue(forKey: gone)?.destroy()
                }
            }
            state.fileGauges = current
        }
    }

    private func count(_ name: String, _ labels: [String], _ total: Int, in state: inout State) {
        let key = Key(name: name, labels: labels)
        let total = Int64(total)
        if let entry = state.counters[key] {
            if total > entry.value { entry.counter.increment(by: total - entry.value) }
            state.counters[key]?.value = max(total, entry.value)
        } else {
            let counter = CoreMetrics.Counter(label: name, dimensions: Self.pairs(labels), factory: factory)
            if total > 0 { counter.increment(by: total) }
            state.counters[key] = (counter, total)
        }
    }

    private func gauge(_ name: String, _ labels: [String], _ value: Double, in state: inout State) {
        gauge(Key(name: name, labels: labels), value, in: &state)
    }

    private func gauge(_ key: Key, _ value: Double, in state: inout State) {
        if let existing = state.gauges[key] {
            existing.record(value)
        } else {
            let gauge = CoreMetrics.Gauge(label: key.name, dimensions: Self.pairs(key.labels), factory: factory)
            gauge.record(value)
            state.gauges[key] = gauge
        }
    }

    private static func pairs(_ labels: [String]) -> [(String, String)] {
        stride(from: 0, to: labels.count - 1, by: 2).map { (labels[$0], labels[$0 + 1]) }
    }
}
