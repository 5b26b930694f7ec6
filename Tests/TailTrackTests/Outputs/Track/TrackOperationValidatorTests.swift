import Testing
import TrackTestServer

@testable import TailTrack

@Suite struct TrackOperationValidatorTests {
    private func problem(_ json: String) -> String? {
        guard let value = JSONValue.parse(Array(json.utf8)) else { return "unparseable" }
        return TrackOperationValidator.problem(in: value).map { "\($0.field): \($0.message)" }
    }

    @Test func acceptsValidOperations() {
        #expect(
            problem(#"{"type":"person","action":"identify","identifiers":{"email":"a@b.c"},"timestamp":1700000000}"#)
                == nil)
        #expect(
            problem(
                #"{"type":"person","action":"event","identifiers":{"id":"7"},"name":"x","id":"01ARZ3NDEKTSV4RRFFQ69G5FAV"}"#
            ) == nil)
        #expect(
            problem(#"{"type":"object","action":"identify","identifiers":{"object_type_id":"1","object_id":"acme"}}"#)
                == nil)
        #expect(problem(#"{"type":"object","action":"delete","identifiers":{"cio_object_id":"x"}}"#) == nil)
        #expect(problem(#"{"type":"delivery","action":"event","identifiers":{"id":"d1"},"name":"opened"}"#) == nil)
    }

    @Test func reportsWhatTrackWouldReject() {
        #expect(problem(#"{"type":"robot","action":"event"}"#) == "type: type must be person, object or delivery")
        #expect(
            problem(#"{"type":"object","action":"event","identifiers":{}}"#)
                == "action: action is not allowed for type object")
        #expect(
            problem(#"{"type":"person","action":"identify","identifiers":{"id":"1","email":"a@b.c"}}"#)
                == "identifiers: identifiers must have exactly one of id, email, phone, cio_id"
        )
        #expect(
            problem(#"{"type":"person","action":"page","identifiers":{"id":"1"}}"#) == "name: name is required for page"
        )
        #expect(
            problem(#"{"type":"object","action":"identify","identifiers":{"object_id":"acme"}}"#)
                == "identifiers: identifiers need object_type_id and object_id, or cio_object_id"
        )
        #expect(
            problem(
                #"{"type":"person","action":"identify","identifiers":{"id":"1"},"id":"01ARZ3NDEKTSV4RRFFQ69G5FAI"}"#)
                == "id: id must be a ULID"
        )
        #expect(
            problem(#"{"type":"person","action":"identify","identifiers":{"id":"1"},"timestamp":"2026-01-01"}"#)
                == "timestamp: timestamp must be an integer (Unix seconds)"
        )
    }
}
