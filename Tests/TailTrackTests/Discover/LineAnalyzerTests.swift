import Testing

@testable import TailTrack

/// Headers are found by position and shape on the loghub formats and on syslog, and the
/// content's variable tokens get their types.
@Suite struct LineAnalyzerTests {
    private func analyze(_ line: String) -> (header: [LineAnalyzer.HeaderKind], content: [String]) {
        var analyzer = LineAnalyzer()
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBytes { buffer in
            let line = UnsafeRawBufferPointer(buffer)
            analyzer.analyze(line)
            let content = analyzer.tokens.map { token -> String in
                if let slot = token.slot {
                    return String(decoding: line[token.start..<token.coreStart], as: UTF8.self) + "<\(slot)>"
                        + String(decoding: line[token.coreEnd..<token.end], as: UTF8.self)
                }
                return String(decoding: line[token.start..<token.end], as: UTF8.self)
            }
            return (analyzer.header.map(\.kind), content)
        }
    }

    @Test func hdfsHeader() {
        let result = analyze(
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating"
        )
        #expect(result.header == [.time, .time, .pid, .level, .component])
        #expect(result.content == ["PacketResponder", "<number>", "for", "block", "<id>", "terminating"])
    }

    @Test func zookeeperHeaderWithNestedBrackets() {
        let result = analyze(
            "2015-07-29 19:04:12,394 - INFO  [/10.10.34.11:3888:QuorumCnxManager$Listener@493] - Received connection request /10.10.34.11:45307"
        )
        #expect(result.header == [.time, .time, .separator, .level, .bracket, .separator])
        #expect(result.content == ["Received", "connection", "request", "<ip>"])
    }

    @Test func hadoopHeaderWithThreadNameHoldingSpaces() {
        let result = analyze(
            "2015-10-18 18:01:50,353 INFO [IPC Server handler 5 on 62270] org.apache.hadoop.ipc.Server: Starting Socket Reader #1 for port 62270"
        )
        #expect(result.header == [.time, .time, .level, .bracket, .component])
        #expect(result.content == ["Starting", "Socket", "Reader", "#<number>", "for", "port", "<number>"])
    }

    @Test func apacheBracketedHeader() {
        let result = analyze("[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6")
        #expect(result.header == [.time, .level])
        #expect(result.content == ["mod_jk", "child", "workerEnv", "in", "error", "state", "<number>"])
    }

    @Test func syslogHostAndProcess() {
        let result = analyze("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=218.188.2.4")
        #expect(result.header == [.time, .time, .time, .host, .component])
        #expect(result.content == ["authentication", "failure;", "rhost=<ip>"])
    }

    @Test func lineWithoutHeaderIsAllContent() {
        let result = analyze("Deleting user 42 from group admins")
        #expect(result.header.isEmpty)
        #expect(result.content == ["Deleting", "user", "<number>", "from", "group", "admins"])
    }

    @Test func typesOfVariableTokens() {
        let result = analyze(
            #"x 0x1F2e ada@example.com https://example.com/a 550e8400-e29b-41d4-a716-446655440000 "two words" /var/log/x.log 12:30:01 250ms"#
        )
        #expect(
            result.content == [
                "x", "<hex>", "<email>", "<url>", "<uuid>", "<quoted>", "<path>", "<timestamp>", "<number>",
            ])
    }
}
