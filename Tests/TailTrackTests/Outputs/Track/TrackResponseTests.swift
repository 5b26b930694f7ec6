import Foundation
import Testing

@testable import TailTrack

@Suite struct TrackResponseTests {
    private func classify(_ status: Int, _ body: String = "", retryAfter: String? = nil) -> TrackOutcome {
        TrackResponse.classify(
            status: status,
            retryAfter: retryAfter,
            body: Array(body.utf8),
            now: Date(timeIntervalSince1970: 1_700_000_000)
        )
    }

    @Test func twoHundredWithoutErrorsIsAccepted() {
        #expect(classify(200) == .accepted(status: 200))
        #expect(classify(200, "{}") == .accepted(status: 200))
        #expect(classify(202, #"{"errors":[]}"#) == .accepted(status: 202))
    }

    @Test func errorsWithBatchIndexAreRejectedItems() {
        let body = #"{"errors":[{"batch_index":3,"reason":"invalid","field":"name","message":"too long"}]}"#
        let expected = [TrackItemError(batchIndex: 3, reason: "invalid", field: "name", message: "too long")]
        #expect(classify(207, body) == .partiallyRejected(status: 207, expected))
        #expect(classify(200, body) == .partiallyRejected(status: 200, expected))
        // Whitespace around the key and a first key of another name: still found.
        let spaced =
            #"{"meta": {}, "errors" : [ {"batch_index": 3, "reason": "invalid", "field": "name", "#
            + #""message": "too long"} ]}"#
        #expect(classify(207, spaced) == .partiallyRejected(status: 207, expected))
        // Track's usual body has no such key and is not parsed at all.
        #expect(!TrackResponse.containsErrorsKey(Array("{}".utf8)))
        #expect(!TrackResponse.containsErrorsKey(Array(#"{"error":1}"#.utf8)))
        #expect(expected[0].deadLetterReason == "Track rejected it: invalid: name: too long")
    }

    @Test func statusClasses() {
        #expect(
            classify(400, #"{"meta":{"errors":["malformed"]}}"#)
                == .badRequest(DeliveryError(status: 400, code: .badRequest, message: "malformed"))
        )
        guard case .unauthorized(let auth) = classify(401) else {
            Issue.record("401 is not an auth failure")
            return
        }
        #expect(
            auth.description
                == "Track answered HTTP 401 (unauthorized): Track refused the credentials; check track.site_id and track.api_key (and the region)"
        )
        guard case .unauthorized = classify(403) else {
            Issue.record("403 is not an auth failure")
            return
        }
        guard case .tooLarge(let large) = classify(413) else {
            Issue.record("413 is not too large")
            return
        }
        #expect(large.code == .tooLarge)
        guard case .misconfigured(let redirect) = classify(301) else {
            Issue.record("301 is not misconfigured")
            return
        }
        #expect(redirect.code == .redirected)
        #expect(redirect.message.contains("track.region"))
        guard case .retryable(let server, nil) = classify(503) else {
            Issue.record("503 is not retryable")
            return
        }
        #expect(server.code == .serverError)
    }

    @Test func tooManyRequestsHonoursRetryAfterSecondsAndDates() {
        #expect(
            classify(429, retryAfter: "3")
                == .retryable(
                    DeliveryError(status: 429, code: .rateLimited, message: "try again later"), retryAfter: .seconds(3))
        )
        // 1_700_000_000 is Tue, 14 Nov 2023 22:13:20 GMT.
        guard case .retryable(_, let after) = classify(429, retryAfter: "Tue, 14 Nov 2023 22:13:25 GMT") else {
            Issue.record("429 is not retryable")
            return
        }
        #expect(after == .seconds(5))
        guard case .retryable(_, let none) = classify(429, retryAfter: "soon") else { return }
        #expect(none == nil)
    }

    @Test func batchBodySizeIsExact() {
        let operations: [[UInt8]] = [Array("{}".utf8), Array(#"{"a":1}"#.utf8)]
        let body = TrackBatchBody.build(operations)
        #expect(String(decoding: body, as: UTF8.self) == #"{"batch":[{},{"a":1}]}"#)
        #expect(body.count == TrackBatchBody.size(operationBytes: 9, count: 2))
        #expect(TrackBatchBody.build([[UInt8]]()) == Array(#"{"batch":[]}"#.utf8))
    }
}
