import Testing

@testable import TailTrack

@Suite struct PackedOperationsTests {
    private let operations = [
        EncodedOperation(bytes: Array(#"{"a":1}"#.utf8), rule: "one", lineOffset: 0),
        EncodedOperation(bytes: Array(#"{"b":"two"}"#.utf8), rule: "a rule with a long name", lineOffset: 8),
        EncodedOperation(bytes: Array("{}".utf8), rule: "three", lineOffset: 20),
    ]

    @Test func keepsEachOperationAndItsOrigin() {
        let packed = PackedOperations(operations)
        #expect(packed.count == 3)
        #expect(packed.operations == operations)
        #expect(packed.size(of: 1) == 11)
        #expect(String(decoding: packed.bytes, as: UTF8.self) == #"{"a":1},{"b":"two"},{},"#)
    }

    @Test func aRunIsItsObjectsWithCommasBetween() {
        let packed = PackedOperations(operations)
        #expect(String(decoding: packed.text(of: 1..<3), as: UTF8.self) == #"{"b":"two"},{}"#)
        #expect(String(decoding: packed.text(of: 0..<1), as: UTF8.self) == #"{"a":1}"#)
        #expect(packed.text(of: 2..<2).isEmpty)
    }

    @Test func filterKeepsTheChosenOperationsInOrder() {
        let kept = PackedOperations(operations).filter { $0 != 1 }
        #expect(kept.operations == [operations[0], operations[2]])
        #expect(String(decoding: kept.bytes, as: UTF8.self) == #"{"a":1},{},"#)
    }
}
