import Testing

@testable import TailTrack

@Suite struct LogfmtParserTests {
    private func parse(_ text: String) -> JSONValue? {
        Array(text.utf8).withUnsafeBytes { LogfmtParser.parse($0) }
    }

    private func parse(bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBytes { LogfmtParser.parse($0) }
    }

    @Test func parsesPairsInOrder() {
        #expect(
            parse(#"level=info msg="user logged in" user_id=7"#)
                == .object([
                    JSONMember("level", .string("info")),
                    JSONMember("msg", .string("user logged in")),
                    JSONMember("user_id", .string("7")),
                ]))
    }

    @Test func bareKeysAreTrueAndEmptyValuesAreEmptyStrings() {
        #expect(
            parse("debug a= b=\"\" c=x")
                == .object([
                    JSONMember("debug", .bool(true)),
                    JSONMember("a", .string("")),
                    JSONMember("b", .string("")),
                    JSONMember("c", .string("x")),
                ]))
    }

    @Test func unescapesQuotedValues() {
        #expect(
            parse(#"msg="say \"hi\" \\ back\nslash\ttab\rcr" x=1"#)
                == .object([
                    JSONMember("msg", .string("say \"hi\" \\ back\nslash\ttab\rcr")),
                    JSONMember("x", .string("1")),
                ]))
        // Unknown escapes stay as written.
        #expect(parse(#"path="C:\temp\x""#)?["path"] == .string("C:\temp\\x"))
    }

    @Test func quotedValuesKeepSpacesAndEquals() {
        #expect(
            parse(#"q="a=b c" r=d=e"#) == .object([JSONMember("q", .string("a=b c")), JSONMember("r", .string("d=e"))]))
    }

    @Test func anUnterminatedQuoteRunsToTheEndOfTheLine() {
        #expect(
            parse(#"a=1 msg="no end"#)
                == .object([JSONMember("a", .string("1")), JSONMember("msg", .string("no end"))]))
        #expect(parse(#"a=1 msg="no \"end"#)?["msg"] == .string("no \"end"))
        #expect(parse(#"a="\"#)?["a"] == .string("\\"))
    }

    @Test func separatorsAreSpacesTabsAndLineEnds() {
        #expect(
            parse("  a=1\t\tb=2   c \r\n")
                == .object([
                    JSONMember("a", .string("1")), JSONMember("b", .string("2")), JSONMember("c", .bool(true)),
                ]))
    }

    @Test func tokensWithoutAKeyAreSkipped() {
        #expect(
            parse(#"=oops "quoted junk" a=1 b"x y" c=2"#)
                == .object([
                    JSONMember("a", .string("1")), JSONMember("c", .string("2")),
                ]))
    }

    @Test(arguments: ["", "   ", "server started", "debug", "\"quoted\"", "=value"])
    func aLineWithoutAPairIsNotLogfmt(_ line: String) {
        #expect(parse(line) == nil)
    }

    @Test func keepsDuplicateKeys() {
        let value = parse("a=1 a=2")
        #expect(value == .object([JSONMember("a", .string("1")), JSONMember("a", .string("2"))]))
        #expect(value?["a"] == .string("1"))
    }

    @Test func keepsUnicodeAndReplacesInvalidUTF8() {
        #expect(parse("user=jöhn emoji=😀")?["emoji"] == .string("😀"))
        #expect(parse("user=jöhn")?["user"] == .string("jöhn"))
        #expect(
            parse(bytes: Array("a=x".utf8) + [0xFF, 0xC3] + Array(" b=\"".utf8) + [0xC0, 0xAF] + [0x22])
                == .object([
                    JSONMember("a", .string("x\u{FFFD}\u{FFFD}")),
                    JSONMember("b", .string("\u{FFFD}\u{FFFD}")),
                ]))
    }
}
