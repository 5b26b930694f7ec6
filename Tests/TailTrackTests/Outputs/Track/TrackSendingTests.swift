import Testing

@testable import TailTrack

/// What the batcher does with each of Track's answers, and Track's limits.
@Suite struct TrackSendingTests {
    let error = DeliveryError(status: 400, code: .badRequest, message: "bad")

    @Test func trackOutcomesMapToBatchOutcomes() {
        #expect(TrackOutcome.accepted(status: 200).batchOutcome == .accepted)
        let itemError = TrackItemError(batchIndex: 2, reason: "invalid", field: "identifiers", message: "missing")
        #expect(
            TrackOutcome.partiallyRejected(status: 207, [itemError]).batchOutcome
                == .partiallyRejected([BatchItemRejection(index: 2, reason: itemError.deadLetterReason)]))
        #expect(TrackOutcome.badRequest(error).batchOutcome == .rejected(error))
        #expect(TrackOutcome.tooLarge(error).batchOutcome == .rejected(error))
        #expect(TrackOutcome.unauthorized(error).batchOutcome == .refused(error))
        #expect(TrackOutcome.misconfigured(error).batchOutcome == .refused(error))
        #expect(
            TrackOutcome.retryable(error, retryAfter: .seconds(3)).batchOutcome
                == .retryable(error, retryAfter: .seconds(3)))
    }

    @Test func trackLimitsAndBodySizeAgree() {
        #expect(BatchRequestLimits.track.requestBytes == 500_000)
        #expect(BatchRequestLimits.track.operationBytes == 32_000)
        let operations: [[UInt8]] = [Array("{}".utf8), Array(#"{"a":1}"#.utf8), Array("{}".utf8)]
        let body = TrackBatchBody.build(operations)
        #expect(body.count == BatchRequestLimits.track.bodySize(operationBytes: 11, count: 3))
        #expect(
            BatchRequestLimits.track.bodySize(operationBytes: 11, count: 3)
                == TrackBatchBody.size(operationBytes: 11, count: 3))
    }
}
