import Testing

@testable import TailTrack

@Suite struct JSONLineParserTests {
    private func parse(_ text: String) -> JSONValue? {
        Array(text.utf8).withUnsafeBytes { JSONLineParser.parse($0) }
    }

    private func parse(bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBytes { JSONLineParser.parse($0) }
    }

    @Test func parsesEveryKindOfValueInOrder() {
        let line =
            #"{"s":"text","i":42,"n":-7,"d":9.5,"t":true,"f":false,"z":null,"a":[1,"x",[]],"o":{"k":"v"},"e":{}}"#
        #expect(
            parse(line)
                == .object([
                    JSONMember("s", .string("text")),
                    JSONMember("i", .int(42)),
                    JSONMember("n", .int(-7)),
                    JSONMember("d", .double(9.5)),
                    JSONMember("t", .bool(true)),
                    JSONMember("f", .bool(false)),
                    JSONMember("z", .null),
                    JSONMember("a", .array([.int(1), .string("x"), .array([])])),
                    JSONMember("o", .object([JSONMember("k", .string("v"))])),
                    JSONMember("e", .object([])),
                ]))
    }

    @Test func allowsWhitespaceAroundAndInside() {
        #expect(
            parse(" \t{ \"a\" :\n1 , \"b\" : [ 2 , 3 ] }\r\n ")
                == .object([
                    JSONMember("a", .int(1)), JSONMember("b", .array([.int(2), .int(3)])),
                ]))
        #expect(parse("{}") == .object([]))
        #expect(parse("  {  }  ") == .object([]))
    }

    @Test(arguments: [
        "", "   ", "[1,2]", "\"text\"", "42", "null", "true",
        "{", "}", "{\"a\":1", "{\"a\":1}}", "{\"a\":1} x", "{\"a\":1}{}", "{\"a\":1,}", "{,}", "{\"a\" 1}",
        "{\"a\":}", "{a:1}", "{'a':1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":+1}",
        "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":0x10}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":True}",
        "{\"a\":\"unterminated}", "{\"a\":\"bad \\x escape\"}", "{\"a\":\"bad \\u12G4\"}", "{\"a\":\"short \\u12\"}",
        "{\"a\":[1,2}", "{\"a\":[1,]}", "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\" : \"x\" \"b\":1}",
    ])
    func rejectsWhatIsNotOneObject(_ line: String) {
        #expect(parse(line) == nil)
    }

    @Test func rejectsRawControlCharactersInStrings() {
        #expect(parse("{\"a\":\"tab\there\"}") == nil)
        #expect(parse("{\"a\":\"nul\u{0}\"}") == nil)
        #expect(parse("{\"a\":\"escaped \\n then raw \n\"}") == nil)
    }

    @Test func integersThatFitInt64AreInts() {
        #expect(
            parse(#"{"a":0,"b":-0,"c":9223372036854775807,"d":-9223372036854775808}"#)
                == .object([
                    JSONMember("a", .int(0)), JSONMember("b", .int(0)),
                    JSONMember("c", .int(.max)), JSONMember("d", .int(.min)),
                ]))
    }

    @Test func otherNumbersAreDoubles() {
        #expect(
            parse(
                #"{"a":9223372036854775808,"b":-9223372036854775809,"c":1e3,"d":1E-2,"e":-0.25,"f":2.0,"g":1.5e+300}"#)
                == .object([
                    JSONMember("a", .double(9_223_372_036_854_775_808)),
                    JSONMember("b", .double(-9_223_372_036_854_775_808)),
                    JSONMember("c", .double(1000)),
                    JSONMember("d", .double(0.01)),
                    JSONMember("e", .double(-0.25)),
                    JSONMember("f", .double(2)),
                    JSONMember("g", .double(1.5e300)),
                ]))
        #expect(parse(#"{"pi":3.141592653589793}"#)?["pi"] == .double(3.141592653589793))
    }

    @Test func numbersBeyondDoubleBecomeInfinity() {
        #expect(
            parse(#"{"a":1e400,"b":-1e400,"c":1e-400}"#)
                == .object([
                    JSONMember("a", .double(.infinity)), JSONMember("b", .double(-.infinity)),
                    JSONMember("c", .double(0)),
                ]))
    }

    @Test func unescapesEverySimpleEscape() {
        #expect(
            parse(#"{"a":"q\" b\\ s\/ n\n r\r t\t b\b f\f"}"#)?["a"] == .string("q\" b\\ s/ n\n r\r t\t b\u{8} f\u{C}"))
    }

    @Test func unescapesUnicodeEscapes() {
        #expect(parse(#"{"a":"\u00e9\u20AC\u0041\u0000"}"#)?["a"] == .string("é€A\u{0}"))
        #expect(parse(#"{"a":"\ud83d\ude00!"}"#)?["a"] == .string("😀!"))
        #expect(parse(#"{"\u006b":1}"#)?["k"] == .int(1))
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() {
        #expect(parse(#"{"a":"x\ud83dy"}"#)?["a"] == .string("x\u{FFFD}y"))
        #expect(parse(#"{"a":"\ud83d"}"#)?["a"] == .string("\u{FFFD}"))
        #expect(parse(#"{"a":"\ude00x"}"#)?["a"] == .string("\u{FFFD}x"))
        #expect(parse(#"{"a":"\ud83d\u0041"}"#)?["a"] == .string("\u{FFFD}A"))
        #expect(parse(#"{"a":"\ud83d\ud83d\ude00"}"#)?["a"] == .string("\u{FFFD}😀"))
    }

    @Test func keepsValidUTF8AsItIs() {
        #expect(parse(#"{"emoji":"😀 ünïcödé 日本"}"#)?["emoji"] == .string("😀 ünïcödé 日本"))
    }

    /// Invalid bytes, with and without an escape in the same string (two decoding paths).
    @Test(
        arguments: [
            ([0xFF], "\u{FFFD}"),
            ([0xC3], "\u{FFFD}"),
            ([0xC0, 0xAF], "\u{FFFD}\u{FFFD}"),  // overlong "/"
            ([0xED, 0xA0, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}"),  // encoded surrogate U+D800
            ([0xF4, 0x90, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),  // above U+10FFFF
            ([0xE2, 0x82], "\u{FFFD}"),  // truncated "€"
            ([0xC3, 0xA9], "é"),
        ] as [([UInt8], String)])
    func replacesInvalidUTF8(_ raw: [UInt8], _ expected: String) {
        let plain = Array(#"{"a":"<"#.utf8) + raw + Array(#">"}"#.utf8)
        #expect(parse(bytes: plain)?["a"] == .string("<\(expected)>"))
        let escaped = Array(#"{"a":"\t<"#.utf8) + raw + Array(#">"}"#.utf8)
        #expect(parse(bytes: escaped)?["a"] == .string("\t<\(expected)>"))
    }

    @Test func keepsDuplicateKeysAndLookupFindsTheFirst() {
        let value = parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(value == .object([JSONMember("a", .int(1)), JSONMember("b", .int(2)), JSONMember("a", .int(3))]))
        #expect(value?["a"] == .int(1))
    }

    @Test func limitsNesting() {
        func nested(_ depth: Int) -> String {
            String(repeating: #"{"a":"#, count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
        }
        #expect(parse(nested(JSONLineParser.maximumDepth)) != nil)
        #expect(parse(nested(JSONLineParser.maximumDepth + 1)) == nil)
        let arrays = "{\"a\":" + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}"
        #expect(parse(arrays) != nil)
        let tooDeep = "{\"a\":" + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}"
        #expect(parse(tooDeep) == nil)
        #expect(parse("{\"a\":" + String(repeating: "[", count: 100_000)) == nil)
    }

    @Test func reachesNestedFieldsByPath() {
        let value = parse(#"{"user":{"id":7,"tags":["a","b"]},"msg":"user logged in"}"#)
        #expect(value?.value(atPath: "user.id") == .int(7))
        #expect(value?.value(atPath: "user.tags.1") == .string("b"))
        #expect(value?["msg"] == .string("user logged in"))
    }

    @Test func roundTripsThroughTheWriter() {
        let line =
            #"{"s":"q\" \\ \n \u0001 é 😀","i":-9223372036854775808,"d":0.1,"big":1e+300,"a":[true,false,null],"o":{"k":{}}}"#
        guard let value = parse(line) else {
            Issue.record("the line did not parse")
            return
        }
        var writer = JSONWriter()
        writer.write(value)
        let written = String(decoding: writer.bytes, as: UTF8.self)
        #expect(
            written
                == #"{"s":"q\" \\ \n \u0001 é 😀","i":-9223372036854775808,"d":0.1,"big":1e+300,"a":[true,false,null],"o":{"k":{}}}"#
        )
        #expect(writer.bytes.withUnsafeBytes { JSONLineParser.parse($0) } == value)
    }
}
