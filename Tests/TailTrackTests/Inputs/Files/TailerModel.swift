import Foundation
import Synchronization
import TrackTestServer

@testable import TailTrack

/// One step of a model-based tailer sequence: something logrotate or the application does to
/// the files, or something that happens to the tailer.
enum TailerModelStep: Equatable, Sendable, CustomStringConvertible {
    /// The application appends this many complete lines to `app.log`.
    case append(Int)
    /// logrotate's create mode: `.N` → `.N+1`, `app.log` → `app.log.1`, a new empty `app.log`.
    case rotate
    /// logrotate's copytruncate: the rotated names shift, `app.log` is copied to `app.log.1`,
    /// then truncated in place.
    case copytruncate
    /// gzip compresses one plain rotated file (`.N` → `.N.gz`), the `pick`-th of them.
    case compress(pick: Int)
    /// The oldest rotated file is deleted (`rotate N`): once all its lines are acknowledged.
    case deleteOldest
    /// Waits until the tailer has emitted and had acknowledged every line written.
    case settle
    /// A clean stop: the tailer is cancelled, then its positions are saved (SIGTERM).
    case stop
    /// A kill between an append and its acknowledgement: acknowledgements stop, `appending`
    /// lines are written (and emitted first when `afterEmission`), then the tailer is dropped
    /// without saving.
    case kill(appending: Int, afterEmission: Bool)
    /// A new tailer starts from the saved positions (a new acknowledgement epoch).
    case start

    var description: String {
        switch self {
        case .append(let count): "append \(count)"
        case .rotate: "rotate"
        case .copytruncate: "copytruncate"
        case .compress(let pick): "compress #\(pick)"
        case .deleteOldest: "delete oldest"
        case .settle: "settle"
        case .stop: "stop"
        case .kill(let count, let after): "kill (append \(count)\(after ? ", emitted" : ", maybe unread"))"
        case .start: "start"
        }
    }

    /// A random sequence of 6 to 19 steps for `seed`, followed by a start if it leaves the
    /// tailer stopped. Appends dominate; rotations, compressions, deletions and restarts come
    /// often enough that most sequences hold several of them, with and without the tailer
    /// running and with and without waiting for it in between. A sequence rotates in one mode,
    /// as logrotate does a file: create (rename) in two sequences of three, else copytruncate.
    static func sequence(seed: UInt64) -> [TailerModelStep] {
        var random = SplitMix64(seed: seed)
        func roll(_ sides: UInt64) -> Int { Int(random.next() % sides) }
        var steps: [TailerModelStep] = []
        var running = false
        let rotation: TailerModelStep = roll(3) == 0 ? .copytruncate : .rotate
        for _ in 0..<(6 + roll(14)) {
            let dice = roll(100)
            let step: TailerModelStep
            switch dice {
            case 0..<34: step = .append(1 + roll(4))
            case 34..<52: step = rotation
            case 52..<62: step = .compress(pick: roll(4))
            case 62..<68: step = .deleteOldest
            case 68..<78: step = running ? .settle : .append(1 + roll(3))
            case 78..<88: step = running ? .stop : .start
            default: step = running ? .kill(appending: roll(4), afterEmission: roll(2) == 0) : .start
            }
            switch step {
            case .start: running = true
            case .stop, .kill: running = false
            default: break
            }
            steps.append(step)
        }
        if !running { steps.append(.start) }
        return steps
    }
}

/// The lines written to one file from its creation at `app.log` (or its truncation there),
/// wherever its bytes are now: renamed, copied by copytruncate or compressed.
struct ModelGeneration: Sendable {
    let number: Int
    private(set) var lines: [String] = []
    /// The offset just after each line's newline.
    private(set) var ends: [UInt64] = []
    /// Deleted from the disk (every line of it was acknowledged first).
    var deleted = false

    init(number: Int) { self.number = number }

    /// Adds `count` lines; returns their text as written (newlines included).
    mutating func add(_ count: Int) -> String {
        var text = ""
        for _ in 0..<count {
            let index = lines.count
            // Unique lines of varied lengths: every file has its own first line (fingerprint).
            let letter = Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8((number + index) % 10)))
            let filler = String(repeating: letter, count: (number * 7 + index * 13) % 37)
            let line = "g\(number) n\(index) \(filler)"
            lines.append(line)
            ends.append((ends.last ?? 0) + UInt64(line.utf8.count + 1))
            text += line + "\n"
        }
        return text
    }

    func offset(of index: Int) -> UInt64 { index == 0 ? 0 : ends[index - 1] }

    /// Lines wholly before `offset`.
    func lineCount(before offset: UInt64) -> Int { ends.prefix { $0 <= offset }.count }

    /// The fingerprint the tailer computes for the file: its first line.
    var fingerprint: FileFingerprint? {
        guard let first = lines.first else { return nil }
        return Array((first + "\n").utf8).withUnsafeBytes { FileFingerprint.compute(head: $0) }
    }

    /// The generation and index a line written by ``add(_:)`` names.
    static func parse(_ line: String) -> (generation: Int, index: Int)? {
        let words = line.split(separator: " ", maxSplits: 2)
        guard words.count >= 2, words[0].first == "g", words[1].first == "n",
            let generation = Int(words[0].dropFirst()), let index = Int(words[1].dropFirst())
        else { return nil }
        return (generation, index)
    }
}

/// What the model waits for, evaluated by ``TailerModelCollector`` at each change.
enum ModelCondition: Sendable, CustomStringConvertible {
    /// Every line of every file still on disk is acknowledged.
    case everyLineAcknowledged
    /// Every line of the generation is acknowledged.
    case acknowledged(generation: Int)
    /// The generation's lines up to `count` were emitted in this epoch (or acknowledged before it).
    case emitted(generation: Int, count: Int)
    /// No acknowledgement is being handed to the tailer.
    case noAcknowledgementInFlight
    /// The epoch's tailer finished its first scan (every file it follows is open).
    case firstScanDone

    var description: String {
        switch self {
        case .everyLineAcknowledged: "every line acknowledged"
        case .acknowledged(let generation): "every line of g\(generation) acknowledged"
        case .emitted(let generation, let count): "g\(generation) emitted through line \(count - 1)"
        case .noAcknowledgementInFlight: "no acknowledgement in flight"
        case .firstScanDone: "the first scan done"
        }
    }
}

/// The tailer's consumer in a model run: checks every emitted line against the model (known,
/// at its offset, with the id the rules would give it, in file order, resuming exactly after
/// the last acknowledgement), acknowledges chunks like delivery (unless holding them, before a
/// kill), and wakes the run when what it waits for has happened.
actor TailerModelCollector {
    private(set) var generations: [ModelGeneration] = []
    /// Lines acknowledged per generation (always a prefix).
    private var acknowledged: [Int: Int] = [:]
    /// ``acknowledged`` when the epoch began: where the tailer must resume.
    private var acknowledgedAtStart: [Int: Int] = [:]
    /// The next line expected per generation in this epoch, once one was emitted.
    private var next: [Int: Int] = [:]
    /// Every id a line was emitted with, by generation and index.
    private var ids: [Int: [Int: String]] = [:]
    private(set) var epoch = 0
    private var tailer: Tailer?
    private var holding = false
    private var scanned = false
    private var inFlight = 0
    private(set) var violations: [String] = []
    /// One line per emitted chunk, for the failure report.
    private(set) var emissions: [String] = []
    private var waiters: [(id: Int, condition: ModelCondition, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextWaiter = 0

    /// The rule name the ids are computed for (any name: ids differ per rule, not per run).
    static let rule = "model"

    func addGeneration() -> Int {
        generations.append(ModelGeneration(number: generations.count))
        return generations.count - 1
    }

    /// Registers `count` new lines of `generation` (before they are written) and returns their text.
    func add(_ count: Int, to generation: Int) -> String {
        generations[generation].add(count)
    }

    func markDeleted(_ generation: Int) {
        generations[generation].deleted = true
        resumeSatisfied()
    }

    func isAcknowledged(_ generation: Int) -> Bool {
        acknowledged[generation, default: 0] == generations[generation].lines.count
    }

    func record(_ violation: String) {
        if violations.count < 20 { violations.append(violation) }
    }

    /// A new epoch: `tailer` (started right after) must resume each file after its last acknowledged line.
    func begin(epoch: Int, tailer: Tailer) {
        self.epoch = epoch
        self.tailer = tailer
        acknowledgedAtStart = acknowledged
        next = [:]
        holding = false
        scanned = false
    }

    /// The epoch's tailer opened its files (its first scan is done).
    func sourcesOpened(epoch scanEpoch: Int) {
        guard scanEpoch == epoch else { return }
        scanned = true
        resumeSatisfied()
    }

    /// The epoch's tailer is gone: what it emits from now on is a violation.
    func end() {
        tailer = nil
        emissions.append("-- end of epoch \(epoch)")
    }

    /// Stops acknowledging (the kill is coming) and returns once no acknowledgement is in flight.
    func hold(timeout: Duration) async -> Bool {
        holding = true
        return await wait(for: .noAcknowledgementInFlight, timeout: timeout)
    }

    /// The consumer: checks, then acknowledges each chunk in order unless holding.
    func receive(_ chunks: [LineChunk], epoch chunkEpoch: Int) async {
        guard chunkEpoch == epoch, let tailer else {
            record("epoch \(chunkEpoch) emitted \(chunks.count) chunks after it was stopped")
            return
        }
        for chunk in chunks {
            let generation = check(chunk)
            guard !holding else { continue }
            inFlight += 1
            await tailer.acknowledge(file: chunk.file, offset: chunk.endOffset)
            inFlight -= 1
            if let generation {
                let count = generations[generation].lineCount(before: chunk.endOffset)
                acknowledged[generation] = max(acknowledged[generation, default: 0], count)
            }
            resumeSatisfied()
        }
        resumeSatisfied()
    }

    /// Checks one chunk's lines; returns the generation they belong to.
    private func check(_ chunk: LineChunk) -> Int? {
        var chunkGeneration: Int?
        var first: Int?
        var last: Int?
        for span in chunk.lines {
            let bytes = chunk.bytes[span.start..<span.start + span.length]
            let text = String(decoding: bytes, as: UTF8.self)
            guard let (number, index) = ModelGeneration.parse(text), number < generations.count,
                index < generations[number].lines.count, generations[number].lines[index] == text
            else {
                record("\(chunk.path) offset \(span.fileOffset): a line never written: \"\(text.prefix(80))\"")
                continue
            }
            if let chunkGeneration, chunkGeneration != number {
                record("\(chunk.path): one chunk holds lines of g\(chunkGeneration) and g\(number)")
            }
            chunkGeneration = number
            first = first ?? index
            last = index
            let generation = generations[number]
            if span.fileOffset != generation.offset(of: index) {
                record(
                    "\(text.prefix(12)) emitted at offset \(span.fileOffset), written at \(generation.offset(of: index))"
                )
            }
            let id = bytes.withUnsafeBytes {
                OperationID.make(
                    fingerprint: chunk.fingerprint, offset: span.fileOffset, line: $0, rule: Self.rule,
                    eventTimeMilliseconds: nil)
            }
            if let earlier = ids[number, default: [:]][index], earlier != id {
                record("\(text.prefix(12)) emitted with id \(id) from \(chunk.path), earlier with \(earlier)")
            }
            ids[number, default: [:]][index] = id
            let expected = next[number] ?? acknowledgedAtStart[number, default: 0]
            if index != expected {
                if next[number] == nil {
                    record(
                        "epoch \(epoch): g\(number) resumed at line \(index) from \(chunk.path); "
                            + "lines before \(expected) were acknowledged before the restart"
                            + (index < expected ? " (emitted again)" : " (lines \(expected)..<\(index) lost)"))
                } else if index < expected {
                    record("epoch \(epoch): g\(number) line \(index) emitted again (next expected \(expected))")
                } else {
                    record("epoch \(epoch): g\(number) lines \(expected)..<\(index) skipped")
                }
            }
            next[number] = index + 1
        }
        if let chunkGeneration, let first, let last {
            let generation = generations[chunkGeneration]
            if chunk.fingerprint != generation.fingerprint {
                record(
                    "\(chunk.path): fingerprint \(chunk.fingerprint), expected \(generation.fingerprint.map { "\($0)" } ?? "none")"
                )
            }
            if chunk.endOffset != generation.ends[last] {
                record("\(chunk.path): chunk ends at \(chunk.endOffset), its last line at \(generation.ends[last])")
            }
            emissions.append(
                "e\(epoch) \((chunk.path as NSString).lastPathComponent) g\(chunkGeneration) n\(first)...n\(last)\(holding ? " (held)" : "")"
            )
        } else if chunk.lines.isEmpty {
            emissions.append(
                "e\(epoch) \((chunk.path as NSString).lastPathComponent) (no lines) end \(chunk.endOffset)")
        }
        return chunkGeneration
    }

    private func holds(_ condition: ModelCondition) -> Bool {
        switch condition {
        case .everyLineAcknowledged:
            generations.allSatisfy { $0.deleted || acknowledged[$0.number, default: 0] == $0.lines.count }
        case .acknowledged(let generation):
            isAcknowledged(generation)
        case .emitted(let generation, let count):
            (next[generation] ?? acknowledgedAtStart[generation, default: 0]) >= count
        case .noAcknowledgementInFlight:
            inFlight == 0
        case .firstScanDone:
            scanned
        }
    }

    /// What is still missing for ``ModelCondition/everyLineAcknowledged``, for the report.
    func unacknowledged() -> String {
        generations.filter { !$0.deleted && acknowledged[$0.number, default: 0] < $0.lines.count }.map {
            "g\($0.number) acknowledged \(acknowledged[$0.number, default: 0]) of \($0.lines.count)"
        }.joined(separator: "; ")
    }

    /// Waits until `condition` holds; false when `timeout` passed first.
    func wait(for condition: ModelCondition, timeout: Duration) async -> Bool {
        if holds(condition) { return true }
        let id = nextWaiter
        nextWaiter += 1
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.expire(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { waiters.append((id, condition, $0)) }
    }

    private func expire(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(returning: false)
    }

    private func resumeSatisfied() {
        let ready = waiters.filter { holds($0.condition) }
        waiters.removeAll { holds($0.condition) }
        for waiter in ready { waiter.continuation.resume(returning: true) }
    }
}

/// Runs `body` (which may never end) for at most `timeout`; false when the time ran out first.
func finishes(within timeout: Duration, _ body: @escaping @Sendable () async -> Void) async -> Bool {
    await withCheckedContinuation { continuation in
        let once = ResumeOnce(continuation)
        Task {
            await body()
            once.resume(true)
        }
        Task {
            try? await Task.sleep(for: timeout)
            once.resume(false)
        }
    }
}

/// A continuation resumed by whichever of two tasks comes first.
private final class ResumeOnce: Sendable {
    private let slot: Mutex<CheckedContinuation<Bool, Never>?>

    init(_ continuation: CheckedContinuation<Bool, Never>) { slot = Mutex(continuation) }

    func resume(_ value: Bool) { slot.withLock { $0.take() }?.resume(returning: value) }
}
