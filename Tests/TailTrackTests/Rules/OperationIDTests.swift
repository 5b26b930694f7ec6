import Testing

@testable import TailTrack

@Suite struct OperationIDTests {
    static let fingerprint = FileFingerprint(value: 0x0123_4567_89AB_CDEF, length: 42)
    static let line = "2026-11-22T10:00:00Z INFO checkout completed user_id=7 email=a@b.c amount=9.50"

    private func make(
        fingerprint: FileFingerprint = fingerprint, offset: UInt64 = 1_000, line: String = line,
        rule: String = "purchase", time: Int64? = nil
    ) -> String {
        Array(line.utf8).withUnsafeBytes {
            OperationID.make(
                fingerprint: fingerprint, offset: offset, line: $0, rule: rule, eventTimeMilliseconds: time)
        }
    }

    /// Ids already sent depend on this exact value: it must never change between releases.
    /// Both values were also computed by an independent reimplementation of StableHasher and
    /// the ULID encoding (in Python), so the pin checks the algorithm, not just itself.
    @Test func isPinnedForever() {
        #expect(make() == "01EJ23DG60AC2Y50PVMYCQV09H")
        #expect(make(time: 1_795_341_600_000) == "01M81B5H80AC2Y50PVMYCQV09H")
    }

    @Test func isAPureFunction() {
        #expect(make() == make())
        #expect(make(time: 5) == make(time: 5))
    }

    @Test func isAValidULID() {
        #expect(ULID.isValid(make()))
        #expect(ULID.isValid(make(time: 0)))
        #expect(ULID.isValid(make(line: "")))
    }

    @Test func everyInputChangesTheId() {
        let base = make()
        var changedByte = Array(Self.line.utf8)
        changedByte[30] ^= 1
        let variants = [
            make(line: String(decoding: changedByte, as: UTF8.self)),
            make(line: Self.line + " "),
            make(line: String(Self.line.dropLast())),
            make(offset: 1_001),
            make(offset: 0),
            make(rule: "purchase2"),
            make(rule: ""),
            make(fingerprint: FileFingerprint(value: 0x0123_4567_89AB_CDEE, length: 42)),
            make(fingerprint: FileFingerprint(value: 0x0123_4567_89AB_CDEF, length: 43)),
        ]
        for variant in variants {
            #expect(variant != base)
            // The entropy alone differs, not just the time part.
            #expect(variant.dropFirst(10) != base.dropFirst(10))
        }
        #expect(Set(variants).count == variants.count)
    }

    @Test func manyOffsetsGiveManyIds() {
        let ids = (0..<2_000).map { make(offset: UInt64($0) * 80) }
        #expect(Set(ids).count == 2_000)
    }

    @Test func theEventTimeIsTheTimePart() {
        let id = make(time: 1_795_341_600_123)
        #expect(ULID.timeMilliseconds(of: id) == 1_795_341_600_123)
        // The time does not take part in the entropy.
        #expect(id.dropFirst(10) == make(time: 7).dropFirst(10))
        #expect(id.dropFirst(10) == make().dropFirst(10))
    }

    @Test func theEventTimeIsClampedToWhatAULIDHolds() {
        #expect(ULID.timeMilliseconds(of: make(time: -5)) == 0)
        #expect(ULID.timeMilliseconds(of: make(time: .max)) == ULID.maximumTimeMilliseconds)
        #expect(make(time: .max).hasPrefix("7ZZZZZZZZZ"))
    }

    @Test func aDerivedTimeFallsIn2020To2029() {
        for offset in 0..<500 {
            let time = ULID.timeMilliseconds(of: make(offset: UInt64(offset)))
            #expect(time.map { (1_577_836_800_000..<1_893_456_000_000).contains($0) } == true)
        }
    }

    @Test func encodesTheULIDSpecExample() {
        // The spec encodes the time 1469918176385 as 01ARYZ6S41.
        #expect(
            ULID.encode(timeMilliseconds: 1_469_918_176_385, entropyHigh: 0, entropyLow: 0)
                == "01ARYZ6S410000000000000000")
        // Its example ULID's time part, decoded independently (base32 by hand in Python).
        #expect(ULID.timeMilliseconds(of: "01ARZ3NDEKTSV4RRFFQ69G5FAV") == 1_469_922_850_259)
    }

    @Test func encodesTheExtremes() {
        #expect(ULID.encode(timeMilliseconds: 0, entropyHigh: 0, entropyLow: 0) == "00000000000000000000000000")
        #expect(
            ULID.encode(timeMilliseconds: ULID.maximumTimeMilliseconds, entropyHigh: .max, entropyLow: .max)
                == "7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
        // Single bits land where base32 puts them: the lowest, the 64th and the 80th entropy bit.
        #expect(ULID.encode(timeMilliseconds: 0, entropyHigh: 0, entropyLow: 1) == "00000000000000000000000001")
        #expect(ULID.encode(timeMilliseconds: 0, entropyHigh: 1, entropyLow: 0) == "0000000000000G000000000000")
        #expect(ULID.encode(timeMilliseconds: 0, entropyHigh: 0x8000, entropyLow: 0) == "0000000000G000000000000000")
        #expect(ULID.encode(timeMilliseconds: 1, entropyHigh: 0, entropyLow: 0) == "00000000010000000000000000")
        #expect(ULID.encode(timeMilliseconds: 1 << 47, entropyHigh: 0, entropyLow: 0) == "40000000000000000000000000")
    }

    @Test(arguments: [
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", true),
        ("7ZZZZZZZZZZZZZZZZZZZZZZZZZ", true),
        ("00000000000000000000000000", true),
        ("01arz3ndektsv4rrffq69g5fav", false),
        ("01ARZ3NDEKTSV4RRFFQ69G5FA", false),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAVX", false),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAI", false),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAL", false),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAO", false),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAU", false),
        ("81ARZ3NDEKTSV4RRFFQ69G5FAV", false),
        ("01ARZ3NDEKTSV4RRFFQ69G5FA-", false),
        ("", false),
    ])
    func validatesULIDs(_ text: String, _ valid: Bool) {
        #expect(ULID.isValid(text) == valid)
    }
}
