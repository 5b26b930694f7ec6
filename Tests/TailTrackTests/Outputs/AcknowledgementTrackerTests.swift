import Testing

@testable import TailTrack

@Suite struct AcknowledgementTrackerTests {
    typealias Ack = AcknowledgementTracker.Acknowledgement
    let a = FileKey(rawValue: 1)
    let b = FileKey(rawValue: 2)

    @Test func chunkCompletesWhenAllItsOperationsAreDone() {
        var tracker = AcknowledgementTracker()
        let (ticket, now) = tracker.register(file: a, endOffset: 100, operations: 3)
        #expect(now.isEmpty)
        #expect(tracker.complete(ticket, count: 2).isEmpty)
        #expect(tracker.complete(ticket) == [Ack(file: a, endOffset: 100)])
        #expect(tracker.pendingChunkCount == 0)
    }

    @Test func emptyChunkAtTheHeadIsAcknowledgedAtOnce() {
        var tracker = AcknowledgementTracker()
        let (_, acks) = tracker.register(file: a, endOffset: 50, operations: 0)
        #expect(acks == [Ack(file: a, endOffset: 50)])
    }

    @Test func emptyChunkBehindAnIncompleteOneWaits() {
        var tracker = AcknowledgementTracker()
        let (first, _) = tracker.register(file: a, endOffset: 10, operations: 1)
        let (_, acks) = tracker.register(file: a, endOffset: 20, operations: 0)
        #expect(acks.isEmpty)
        #expect(tracker.complete(first) == [Ack(file: a, endOffset: 10), Ack(file: a, endOffset: 20)])
    }

    @Test func laterChunkCompletingFirstIsHeldBack() {
        var tracker = AcknowledgementTracker()
        let (first, _) = tracker.register(file: a, endOffset: 10, operations: 1)
        let (second, _) = tracker.register(file: a, endOffset: 20, operations: 2)
        let (third, _) = tracker.register(file: a, endOffset: 30, operations: 1)
        #expect(tracker.complete(third).isEmpty)
        #expect(tracker.complete(second, count: 2).isEmpty)
        #expect(
            tracker.complete(first) == [
                Ack(file: a, endOffset: 10), Ack(file: a, endOffset: 20), Ack(file: a, endOffset: 30),
            ]
        )
    }

    @Test func filesAreIndependent() {
        var tracker = AcknowledgementTracker()
        let (a1, _) = tracker.register(file: a, endOffset: 10, operations: 1)
        let (b1, _) = tracker.register(file: b, endOffset: 7, operations: 1)
        #expect(tracker.complete(b1) == [Ack(file: b, endOffset: 7)])
        #expect(tracker.complete(a1) == [Ack(file: a, endOffset: 10)])
    }

    @Test func strayCompletionsChangeNothing() {
        var tracker = AcknowledgementTracker()
        let (first, _) = tracker.register(file: a, endOffset: 10, operations: 1)
        #expect(tracker.complete(first) == [Ack(file: a, endOffset: 10)])
        let (second, _) = tracker.register(file: a, endOffset: 20, operations: 1)
        #expect(second != first)
        #expect(tracker.complete(first).isEmpty)
        #expect(tracker.complete(AcknowledgementTracker.Ticket(file: b, sequence: 0)).isEmpty)
        #expect(tracker.complete(second) == [Ack(file: a, endOffset: 20)])
    }

    /// Every order of completing four chunks acknowledges the same offsets, in file order,
    /// and never one ahead of an incomplete earlier chunk.
    @Test func everyCompletionOrderAcknowledgesInFileOrder() {
        let counts = [1, 2, 0, 1]
        var units: [Int] = []
        for (chunk, count) in counts.enumerated() { units += Array(repeating: chunk, count: count) }
        for order in permutations(units) {
            var tracker = AcknowledgementTracker()
            var acked: [UInt64] = []
            var tickets: [AcknowledgementTracker.Ticket] = []
            for (chunk, count) in counts.enumerated() {
                let (ticket, acks) = tracker.register(file: a, endOffset: UInt64(chunk + 1) * 10, operations: count)
                tickets.append(ticket)
                acked += acks.map(\.endOffset)
            }
            var remaining = counts
            for chunk in order {
                remaining[chunk] -= 1
                let acks = tracker.complete(tickets[chunk]).map(\.endOffset)
                for offset in acks {
                    let index = Int(offset / 10) - 1
                    #expect(remaining[...index].allSatisfy { $0 == 0 })
                }
                acked += acks
            }
            #expect(acked == [10, 20, 30, 40])
        }
    }

    private func permutations(_ items: [Int]) -> [[Int]] {
        guard items.count > 1 else { return [items] }
        var result: Set<[Int]> = []
        for index in items.indices {
            var rest = items
            let item = rest.remove(at: index)
            for tail in permutations(rest) { result.insert([item] + tail) }
        }
        return Array(result)
    }
}
