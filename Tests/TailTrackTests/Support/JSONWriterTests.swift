import Testing

@testable import TailTrack

@Suite struct JSONWriterTests {
    private func written(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.write(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private func writtenBytes(_ raw: [UInt8]) -> [UInt8] {
        var writer = JSONWriter()
        raw.withUnsafeBytes { writer.writeString(bytes: $0) }
        return writer.bytes
    }

    @Test func writesScalars() {
        #expect(written(.null) == "null")
        #expect(written(.bool(true)) == "true")
        #expect(written(.bool(false)) == "false")
        #expect(written(.int(0)) == "0")
        #expect(written(.int(-7)) == "-7")
        #expect(written(.int(.max)) == "9223372036854775807")
        #expect(written(.int(.min)) == "-9223372036854775808")
        #expect(written(.string("")) == #""""#)
    }

    @Test(
        arguments: [
            (9.0, "9"), (-0.0, "0"), (9.5, "9.5"), (0.1, "0.1"), (-0.25, "-0.25"), (1e14, "100000000000000"),
            (1e15, "1000000000000000"), (1e17, "100000000000000000"), (1e20, "1e+20"), (1.5e300, "1.5e+300"),
            (.leastNonzeroMagnitude, "5e-324"), (0.30000000000000004, "0.30000000000000004"),
            (1.0 / 3.0, "0.3333333333333333"), (.nan, "null"), (.infinity, "null"), (-.infinity, "null"),
        ] as [(Double, String)])
    func writesDoubles(_ number: Double, _ expected: String) {
        #expect(written(.double(number)) == expected)
        #expect(JSONWriter.format(number) == expected)
    }

    @Test func writesNestedValuesInOrder() {
        let value = JSONValue.object([
            JSONMember("b", .array([.int(1), .null, .object([])])),
            JSONMember("a", .object([JSONMember("x\"y", .string("z"))])),
            JSONMember("c", .array([])),
        ])
        #expect(written(value) == #"{"b":[1,null,{}],"a":{"x\"y":"z"},"c":[]}"#)
    }

    @Test func escapesQuotesBackslashesAndNamedControls() {
        #expect(written(.string("a\"b\\c\nd\re\tf\u{8}g\u{C}h/")) == #""a\"b\\c\nd\re\tf\bg\fh/""#)
    }

    @Test func escapesEveryControlCharacter() {
        let named: [UInt8: String] = [0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"]
        let hex = Array("0123456789abcdef")
        for byte in UInt8(0)..<0x20 {
            let expected = named[byte] ?? "\\u00\(hex[Int(byte >> 4)])\(hex[Int(byte & 0xF)])"
            #expect(written(.string(String(UnicodeScalar(byte)))) == "\"\(expected)\"")
            #expect(writtenBytes([byte]) == Array("\"\(expected)\"".utf8))
        }
        #expect(written(.string("\u{0}\u{1F}\u{7F}")) == "\"\\u0000\\u001f\u{7F}\"")
    }

    @Test func writesNonASCIIAsUTF8() {
        #expect(written(.string("é€😀 日本")) == "\"é€😀 日本\"")
        #expect(writtenBytes(Array("😀".utf8)) == [0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22])
    }

    @Test(
        arguments: [
            ([0xFF], [0xEF, 0xBF, 0xBD]),
            ([0xC3], [0xEF, 0xBF, 0xBD]),
            ([0xC0, 0xAF], [0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD]),
            ([0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD]),
            ([0x61, 0xC3, 0x22], [0x61, 0xEF, 0xBF, 0xBD, 0x5C, 0x22]),
            ([0xC3, 0xA9], [0xC3, 0xA9]),
        ] as [([UInt8], [UInt8])])
    func replacesInvalidUTF8InRawBytes(_ raw: [UInt8], _ expected: [UInt8]) {
        #expect(writtenBytes(raw) == [0x22] + expected + [0x22])
    }

    @Test(
        arguments: [
            ([], true), ([0x41], true), ([0xC3, 0xA9], true), ([0xF0, 0x9F, 0x98, 0x80], true),
            ([0xEF, 0xBF, 0xBD], true), ([0xF4, 0x8F, 0xBF, 0xBF], true),
            ([0xFF], false), ([0xC3], false), ([0xC0, 0xAF], false), ([0xE0, 0x80, 0xAF], false),
            ([0xED, 0xA0, 0x80], false), ([0xF4, 0x90, 0x80, 0x80], false), ([0x80], false),
            ([0xE2, 0x82], false), ([0xC3, 0x41], false),
        ] as [([UInt8], Bool)])
    func validatesUTF8(_ raw: [UInt8], _ valid: Bool) {
        #expect(raw.withUnsafeBytes { JSONWriter.isValidUTF8($0) } == valid)
    }

    @Test func appendsRawJSONAndIntegers() {
        var writer = JSONWriter()
        writer.append("[")
        writer.writeInteger(12)
        writer.append(",")
        writer.append(raw: Array(#"{"k":1}"#.utf8))
        writer.append("]")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"[12,{"k":1}]"#)
    }
}
