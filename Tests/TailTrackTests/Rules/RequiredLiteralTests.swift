import Testing
import TrackTestServer

@testable import TailTrack

/// The bytes a pattern requires, and the chunk path that skips lines without them.
@Suite struct RequiredLiteralTests {
    @Test(
        arguments: [
            // The bench's rule: the longest top-level run wins.
            (
                #"^(?<ts>\S+) INFO checkout completed user_id=(?<user_id>\d+) email=(?<email>\S+) amount=(?<amount>[0-9.]+)"#,
                " INFO checkout completed user_id="
            ),
            ("buy user=(?<u>\\d+)", "buy user="),
            // A quantifier that can drop a character leaves it out.
            ("colou?r=", "colo"),
            ("abcd*e", "abc"),
            ("xyzw{0,2}q", "xyz"),
            ("abc+d", "abc"),
            // Escaped punctuation is literal; classes, dots and escapes end a run.
            (#"a\.b\.c\d+xyz"#, "a.b.c"),
            ("[abc]def.ghij", "ghij"),
            ("[]x]yz1234", "yz1234"),
            ("[[:alpha:]]+ word", " word"),
            // Text inside groups is never taken (it may be optional or alternated).
            ("(?:alpha|beta) gamma", " gamma"),
            ("(abc)?defg", "defg"),
            (#"\d{3}-status"#, "-status"),
        ] as [(String, String)])
    func readsTheLongestRequiredRun(pattern: String, expected: String) {
        #expect(RequiredLiteral.of(pattern) == Array(expected.utf8))
    }

    @Test(arguments: [
        "alpha|beta gamma",  // alternation at the top
        "(?i)checkout done",  // an inline option changes what matches
        "(*UTF)checkout",
        "\\Qa.b\\E done",
        #"[\Q]]\E] quoted class"#,
        "(?# a ( comment)done here",
        "ab",  // too short to be worth it
        #"\k<name>word"#,
        "abc{x}def",  // a `{` that is not a quantifier
    ])
    func givesUpOnWhatItDoesNotRead(pattern: String) {
        #expect(RequiredLiteral.of(pattern) == nil)
    }

    /// Against PCRE2 itself: for generated patterns over a tiny alphabet (so that random lines
    /// often match), every line the pattern matches contains the literal read from it (runs
    /// of any length, to try the reading on as many patterns as possible).
    @Test func everyMatchContainsTheLiteral() {
        let atoms = [
            "a", "b", "ab", "ba", "=", "\\.", ".", "\\d", "[ab]", "[^a]", "(a|b)", "(?:ab)", "(?<=b)a", "a?", "b*",
            "a+", "b{0,2}", "a{2}", "(?=a)", "\\s", "ab?", "(b)?a",
        ]
        var generator = SplitMix64(seed: 7)
        func pick<T>(_ items: [T]) -> T { items[Int(generator.next() % UInt64(items.count))] }
        let data = RegexMatchData(groups: 4)
        var checkedMatches = 0
        var screened = 0
        for _ in 0..<600 {
            var pattern = generator.next() % 4 == 0 ? "^" : ""
            for _ in 0..<(2 + Int(generator.next() % 5)) { pattern += pick(atoms) }
            if generator.next() % 5 == 0 { pattern += "$" }
            guard let literal = RequiredLiteral.of(pattern, minimumLength: 1) else { continue }
            screened += 1
            guard let regex = try? CompiledRegex(pattern) else { continue }
            for _ in 0..<400 {
                var line: [UInt8] = []
                for _ in 0..<Int(generator.next() % 16) { line.append(pick(Array("ab= .1".utf8))) }
                guard line.withUnsafeBytes({ regex.matches($0, using: data) }) else { continue }
                checkedMatches += 1
                let found =
                    line.count >= literal.count
                    && (0...(line.count - literal.count)).contains { Array(line[$0..<$0 + literal.count]) == literal }
                #expect(found, "\(pattern) matched \(String(decoding: line, as: UTF8.self)) without its literal")
            }
        }
        #expect(screened > 100)
        #expect(checkedMatches > 1000)
    }

    @Test func finderChecksTheWholeRunAroundItsAnchor() {
        let finder = LiteralFinder(Array("user_id=".utf8))
        #expect(finder.anchor == UInt8(ascii: "_"))
        let text = Array("use_id= user_i user_id=1 user_id=2".utf8)
        text.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            #expect(finder.firstOccurrence(in: base, from: 0, count: text.count) == 15)
            #expect(finder.firstOccurrence(in: base, from: 16, count: text.count) == 25)
            #expect(finder.firstOccurrence(in: base, from: 26, count: text.count) == nil)
            // An occurrence must end inside the buffer.
            #expect(finder.firstOccurrence(in: base, from: 16, count: 32) == nil)
        }
    }

    /// The screened chunk path gives exactly what offering every line to the rules gives:
    /// the same operations, rejections and counts, with literals at line edges, lines that
    /// contain a literal but do not match, two rules taking one line, rejections between
    /// operations, and a rule without a literal mixed in.
    @Test(arguments: [false, true])
    func screenedChunksMatchLineByLineEvaluation(withUnscreenableRule: Bool) throws {
        // `buy` goes on to the next rules; `long` makes a valid operation from a short name
        // and a rejection (from a part-written encoding) from a name over 100 bytes.
        var yaml = """
            - name: buy
              match: 'buy user=(?<u>\\d+)'
              continue: true
              operation: { action: event, identifiers: { id: "{{u}}" }, name: buy }
            - name: long
              match: 'long=(?<n>\\w+)'
              operation: { action: event, identifiers: { id: "{{n}}" }, name: "{{n}}" }
            - name: gone
              match: '^(?<u>\\d+) account closed$'
              operation: { action: delete, identifiers: { id: "{{u}}" } }
            """
        if withUnscreenableRule {
            yaml += """

                - name: any
                  match: '^x(?<u>\\d)'
                  operation: { action: event, identifiers: { id: "{{u}}" }, name: x }
                """
        }
        let rules = try compileRules(yaml)
        let pieces = [
            "buy user=1", "buy user=", "xbuy user=22 tail", "7 account closed", "7 account closed!", "idle",
            "", "account closed", "x5 buy user=3", "buy user", "buy user=4\r", "12 account closed",
            "long=short", "long=" + String(repeating: "n", count: 120), "buy user=5 long=both",
        ]
        var generator = SplitMix64(seed: 42)
        var text: [UInt8] = []
        var spans: [LineSpan] = []
        for _ in 0..<400 {
            let line = Array(pieces[Int(generator.next() % UInt64(pieces.count))].utf8)
            var length = line.count
            if line.last == UInt8(ascii: "\r") { length -= 1 }
            spans.append(LineSpan(start: text.count, length: length, fileOffset: UInt64(text.count)))
            text += line + [UInt8(ascii: "\n")]
        }
        let chunk = LineChunk(
            source: "app", path: "/var/log/app.log", fingerprint: FileFingerprint(value: 5, length: 9),
            file: FileKey(rawValue: 1), bytes: text, lines: spans, endOffset: UInt64(text.count))

        let screened = rules.makeEvaluator()
        let result = screened.process(chunk, readTime: testReadTime)

        let plain = rules.makeEvaluator()
        var expected: [String] = []
        text.withUnsafeBytes { buffer in
            for span in spans {
                plain.evaluate(
                    UnsafeRawBufferPointer(rebasing: buffer[span.start..<span.start + span.length]),
                    source: "app", path: "/var/log/app.log", fingerprint: chunk.fingerprint,
                    offset: span.fileOffset, readTime: testReadTime
                ) { outcome in
                    switch outcome {
                    case .operation(let operation):
                        expected.append("\(operation.lineOffset) " + String(decoding: operation.bytes, as: UTF8.self))
                    case .rejected(let rejection):
                        expected.append("\(rejection.lineOffset) REJECTED \(rejection.reason)")
                    }
                }
            }
        }
        let got =
            result.operations.map { "\($0.lineOffset) " + String(decoding: $0.bytes, as: UTF8.self) }
            + result.rejected.map { "\($0.lineOffset) REJECTED \($0.reason)" }
        #expect(got.sorted() == expected.sorted())
        #expect(result.operations.count > 50)
        #expect(result.rejected.count > 5)
        #expect(screened.stats == plain.stats)
    }
}
