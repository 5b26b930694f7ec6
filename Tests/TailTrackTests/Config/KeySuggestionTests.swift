import Testing

@testable import TailTrack

@Suite struct KeySuggestionTests {
    let batchKeys = ["max_bytes", "flush_interval", "max_in_flight", "max_requests_per_second", "queue_bytes"]

    @Test func suggestsTheClosestKey() {
        #expect(KeySuggestion.closest(to: "flush_intervl", among: batchKeys) == "flush_interval")
        #expect(KeySuggestion.closest(to: "max_byte", among: batchKeys) == "max_bytes")
        #expect(KeySuggestion.closest(to: "max_in_fligth", among: batchKeys) == "max_in_flight")
    }

    @Test func swapsCostOne() {
        #expect(KeySuggestion.editDistance(Array("ab".unicodeScalars), Array("ba".unicodeScalars)) == 1)
        #expect(KeySuggestion.editDistance(Array("kitten".unicodeScalars), Array("sitting".unicodeScalars)) == 3)
        #expect(KeySuggestion.editDistance([], Array("abc".unicodeScalars)) == 3)
    }

    @Test func noSuggestionWhenTooFar() {
        #expect(KeySuggestion.closest(to: "colour", among: batchKeys) == nil)
        // Short keys allow one edit.
        #expect(KeySuggestion.closest(to: "ur", among: ["url"]) == "url")
        #expect(KeySuggestion.closest(to: "x", among: ["url"]) == nil)
    }

    @Test func messages() {
        #expect(
            KeySuggestion.unknownKeyMessage("flush_intervl", among: batchKeys)
                == "unknown key \"flush_intervl\" (did you mean \"flush_interval\"?)"
        )
        #expect(KeySuggestion.unknownKeyMessage("colour", among: batchKeys) == "unknown key \"colour\"")
    }
}
