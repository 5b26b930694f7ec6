// Over 400 lines: the generated log and two loghub fixtures (48 lines of data) live here, beside the tests that read them.
import Foundation
import Testing
import TrackTestServer

/// `tailtrack discover` run as the built binary: `--assign` on a generated log with known
/// templates and on small loghub fixtures, `--json`, and `--rules-out` whose rules then pass
/// `check` and `test` and take, under `dry-run`, exactly the lines of their templates.
@Suite struct DiscoverCommandTests {
    @Test func assignGroupsAGeneratedLogExactly() throws {
        let directory = try TemporaryDirectory()
        let log = GeneratedLog.make(lines: 600)
        try directory.write("app.log", log.text)
        let result = try CLIRun.tailtrack(["discover", "--assign", directory.file("app.log")])
        #expect(result.status == 0)
        let ids = result.stdout.split(separator: "\n").map(String.init)
        #expect(ids.count == log.truth.count)
        #expect(DiscoverAccuracy.grouping(truth: log.truth, predicted: ids) == 1)
    }

    @Test func assignReadsGzipAndStandardInputLikePlainFiles() throws {
        let directory = try TemporaryDirectory()
        let log = GeneratedLog.make(lines: 200)
        try directory.write("app.log", log.text)
        let gzip = try CLIRun.run(
            "/bin/sh", ["-c", "gzip -c \(directory.file("app.log")) > \(directory.file("app.log.gz"))"])
        #expect(gzip.status == 0)
        let plain = try CLIRun.tailtrack(["discover", "--assign", directory.file("app.log")])
        let compressed = try CLIRun.tailtrack(["discover", "--assign", directory.file("app.log.gz")])
        #expect(plain.status == 0)
        #expect(compressed.stdout == plain.stdout)
        #expect(plain.stdout.split(separator: "\n").count == 200)
    }

    @Test func jsonDescribesEveryTemplate() throws {
        let directory = try TemporaryDirectory()
        let log = GeneratedLog.make(lines: 300)
        try directory.write("app.log", log.text)
        let result = try CLIRun.tailtrack(["discover", "--json", directory.file("app.log")])
        #expect(result.status == 0)
        let objects = try result.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(objects.count == Set(log.truth).count)
        let counts = objects.compactMap { $0["count"] as? Int }
        #expect(counts == counts.sorted(by: >))
        #expect(counts.reduce(0, +) == 300)
        for object in objects {
            #expect(object["id"] is Int)
            #expect((object["template"] as? String)?.isEmpty == false)
            #expect((object["examples"] as? [String])?.count == 2)
            #expect(object["slots"] is [[String: String]])
            #expect((object["rule"] as? String)?.contains("operation:") == true)
        }
        let login = try #require(objects.first { ($0["template"] as? String)?.contains("logged in") == true })
        let slots = try #require(login["slots"] as? [[String: String]])
        #expect(slots.contains { $0["type"] == "email" })
        #expect(slots.contains { $0["type"] == "ip" })
    }

    @Test(arguments: ["generated", "hdfs", "zookeeper"])
    func writtenRulesCheckTestAndTakeExactlyTheirLines(_ name: String) throws {
        let directory = try TemporaryDirectory()
        let lines: [String]
        switch name {
        case "hdfs": lines = LoghubFixtures.hdfs.map(\.line)
        case "zookeeper": lines = LoghubFixtures.zookeeper.map(\.line)
        default: lines = GeneratedLog.make(lines: 400).lines
        }
        try directory.write("logs/app.log", lines.joined(separator: "\n") + "\n")
        try directory.write(
            "tailtrack.yml",
            """
            track:
              region: us
              site_id: "${CIO_SITE_ID}"
              api_key: "${CIO_API_KEY}"
            state_dir: \(directory.file("state"))
            sources:
              - name: app
                paths: ["\(directory.file("logs/*.log"))"]
            rules:
              - include: "rules.yml"
            """
        )
        let config = directory.file("tailtrack.yml")
        let discover = try CLIRun.tailtrack([
            "discover", "--source", "app", "--top", "100", "--rules-out", directory.file("rules.yml"),
            directory.file("logs/app.log"),
        ])
        #expect(discover.status == 0, "\(discover.stderr)")
        let json = try CLIRun.tailtrack(["discover", "--json", "--top", "100", directory.file("logs/app.log")])
        let counts = json.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["count"] as? Int
        }

        let check = try CLIRun.tailtrack(
            ["check", "--config", config], environment: ["CIO_SITE_ID": "site", "CIO_API_KEY": "key"])
        #expect(check.status == 0, "\(check.stderr)")
        let test = try CLIRun.tailtrack(["test", "--config", config])
        #expect(test.status == 0, "\(test.stdout)")
        #expect(test.stdout.hasSuffix("\(counts.count) passed, 0 failed\n"))

        // Each rule takes exactly its template's lines: the per-rule counts are the template
        // counts, and no line is left over or rejected.
        let dryRun = try CLIRun.tailtrack(["dry-run", "--config", config, directory.file("logs/app.log")])
        #expect(dryRun.status == 0)
        let matched = dryRun.stderrLines.compactMap { line -> Int? in
            guard line.hasPrefix("  rule "), let range = line.range(of: "matched ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(matched.sorted() == counts.sorted(), "\(dryRun.stderr)")
        #expect(dryRun.stderrLines.contains("unmatched: 0"))
        #expect(!dryRun.stderr.contains("rejected"))
        #expect(dryRun.stdout.split(separator: "\n").count == lines.count)
    }

    @Test(arguments: ["hdfs", "zookeeper"])
    func assignOnLoghubFixtures(_ name: String) throws {
        let fixture = name == "hdfs" ? LoghubFixtures.hdfs : LoghubFixtures.zookeeper
        let directory = try TemporaryDirectory()
        try directory.write("fixture.log", fixture.map(\.line).joined(separator: "\r\n"))
        let result = try CLIRun.tailtrack(["discover", "--assign", directory.file("fixture.log")])
        #expect(result.status == 0)
        let ids = result.stdout.split(separator: "\n").map(String.init)
        #expect(ids.count == fixture.count)
        #expect(DiscoverAccuracy.grouping(truth: fixture.map(\.truth), predicted: ids) >= 0.9)
    }

    @Test func configAndSourceReadTheSourcesFiles() throws {
        let directory = try TemporaryDirectory()
        try directory.write("logs/a.log", GeneratedLog.make(lines: 100).text)
        try directory.write("logs/b.log", GeneratedLog.make(lines: 50).text)
        try directory.write(
            "tailtrack.yml",
            """
            track: { region: us, site_id: "${CIO_SITE_ID}", api_key: "${CIO_API_KEY}" }
            state_dir: \(directory.file("state"))
            sources:
              - name: app
                paths: ["\(directory.file("logs/*.log"))"]
            """
        )
        let config = directory.file("tailtrack.yml")
        let result = try CLIRun.tailtrack(["discover", "--config", config, "--source", "app"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("150 lines, "))
        let unknown = try CLIRun.tailtrack(["discover", "--config", config, "--source", "web"])
        #expect(unknown.status == 1)
        #expect(unknown.stderrLines == ["--source web: no source of that name in \(config)"])
    }

    @Test func defaultReportListsTemplatesMostFrequentFirst() throws {
        let directory = try TemporaryDirectory()
        try directory.write("app.log", GeneratedLog.make(lines: 300).text)
        let result = try CLIRun.tailtrack(["discover", "--top", "2", directory.file("app.log")])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("300 lines, "))
        #expect(result.stdout.components(separatedBy: "\n#").count == 3)
    }
}

/// A log with a header (ISO time, level, thread, component), key=value pairs, emails, IPs,
/// quoted strings, JSON and logfmt lines; each line with the template it was written from.
enum GeneratedLog {
    struct Log {
        var lines: [String]
        var truth: [String]
        var text: String { lines.joined(separator: "\n") + "\n" }
    }

    static func make(lines count: Int) -> Log {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let names = ["ada", "bob", "cy", "dee", "eve"]
        var lines: [String] = []
        var truth: [String] = []
        for index in 0..<count {
            let time = "2026-11-22T10:\(10 + index / 60 % 50):\(10 + index % 50).\(100 + next(900))Z"
            let thread = "worker-\(next(8))"
            let user = 1000 + next(9000)
            let kind = next(7)
            switch kind {
            case 0:
                lines.append(
                    "\(time) INFO [\(thread)] shop.Orders: order A-\(next(99999)) placed by user \(user) total=\(next(500)).\(next(90) + 10)"
                )
            case 1:
                lines.append(
                    "\(time) INFO [\(thread)] auth.Login: user \(names[next(5)])\(next(99))@example.com logged in from 10.0.\(next(255)).\(next(255))"
                )
            case 2:
                lines.append(
                    "\(time) WARN [\(thread)] shop.Cart: cart \(String(UInt64(next(1 << 30)) * 0x1_0000 + 0xABCDEF, radix: 16)) expired after \(next(3600))s"
                )
            case 3:
                lines.append(
                    "\(time) ERROR [\(thread)] mail.Sender: delivery to \"\(names[next(5)]) x\" failed code=\(500 + next(50))"
                )
            case 4:
                lines.append(
                    #"{"ts":"\#(time)","level":"info","msg":"subscription renewed","user_id":"\#(user)","plan":"\#(names[next(5)])"}"#
                )
            case 5:
                lines.append("time=\(time) level=info msg=\"export finished\" user_id=\(user) rows=\(next(10000))")
            default:
                lines.append(
                    "\(time) INFO [\(thread)] shop.Orders: shipment \(next(99999)) sent to /srv/out/\(next(99)).csv")
            }
            truth.append("T\(kind)")
        }
        return Log(lines: lines, truth: truth)
    }
}

/// Small excerpts of two loghub datasets, with their ground truth.
enum LoghubFixtures {
    /// 24 lines of loghub's `HDFS_2k.log` (github.com/logpai/loghub at commit
    /// dd61d0952749ee7963bde24220d1be5ede023033; free for research use, citing the repository),
    /// each with its true template id from `HDFS_2k.log_structured.csv`.
    static let hdfs: [(truth: String, line: String)] = [
        (
            "E10",
            #"081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating"#
        ),
        (
            "E10",
            #"081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-6952295868487656571 terminating"#
        ),
        (
            "E6",
            #"081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864"#
        ),
        (
            "E6",
            #"081109 204132 26 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.43.115:50010 is added to blk_3050920587428079149 size 67108864"#
        ),
        (
            "E11",
            #"081109 204655 556 INFO dfs.DataNode$PacketResponder: Received block blk_3587508140051953248 of size 67108864 from /10.251.42.84"#
        ),
        (
            "E11",
            #"081109 204722 567 INFO dfs.DataNode$PacketResponder: Received block blk_5402003568334525940 of size 67108864 from /10.251.214.112"#
        ),
        (
            "E13",
            #"081109 204815 653 INFO dfs.DataNode$DataXceiver: Receiving block blk_5792489080791696128 src: /10.251.30.6:33145 dest: /10.251.30.6:50010"#
        ),
        (
            "E13",
            #"081109 204842 663 INFO dfs.DataNode$DataXceiver: Receiving block blk_1724757848743533110 src: /10.251.111.130:49851 dest: /10.251.111.130:50010"#
        ),
        (
            "E7",
            #"081109 205035 28 INFO dfs.FSNamesystem: BLOCK* NameSystem.allocateBlock: /user/root/rand/_temporary/_task_200811092030_0001_m_000590_0/part-00590. blk_-1727475099218615100"#
        ),
        (
            "E7",
            #"081109 205315 29 INFO dfs.FSNamesystem: BLOCK* NameSystem.allocateBlock: /user/root/rand/_temporary/_task_200811092030_0001_m_000742_0/part-00742. blk_-7878121102358435702"#
        ),
        ("E14", #"081109 205931 13 INFO dfs.DataBlockScanner: Verification succeeded for blk_-4980916519894289629"#),
        ("E14", #"081109 213436 13 INFO dfs.DataBlockScanner: Verification succeeded for blk_-2827716238972737794"#),
        (
            "E9",
            #"081109 213837 19 INFO dfs.FSDataset: Deleting block blk_1781953582842324563 file /mnt/hadoop/dfs/data/current/subdir5/blk_1781953582842324563"#
        ),
        (
            "E1",
            #"081109 213847 2552 INFO dfs.DataNode$DataXceiver: 10.251.194.213:50010 Served block blk_-7724713468912166542 to /10.251.203.80"#
        ),
        (
            "E1",
            #"081109 213907 2497 INFO dfs.DataNode$DataXceiver: 10.251.91.229:50010 Served block blk_-3358448553918665902 to /10.251.91.229"#
        ),
        (
            "E3",
            #"081109 214043 2561 WARN dfs.DataNode$DataXceiver: 10.251.30.85:50010:Got exception while serving blk_-2918118818249673980 to /10.251.90.64:"#
        ),
        (
            "E3",
            #"081109 214402 2677 WARN dfs.DataNode$DataXceiver: 10.251.126.255:50010:Got exception while serving blk_8376667364205250596 to /10.251.91.159:"#
        ),
        (
            "E8",
            #"081110 020724 29 INFO dfs.FSNamesystem: BLOCK* NameSystem.delete: blk_2568309208894455676 is added to invalidSet of 10.251.31.160:50010"#
        ),
        (
            "E8",
            #"081110 103026 34 INFO dfs.FSNamesystem: BLOCK* NameSystem.delete: blk_-1233005817943453613 is added to invalidSet of 10.251.75.49:50010"#
        ),
        (
            "E9",
            #"081110 103201 19 INFO dfs.FSDataset: Deleting block blk_8483848473254499625 file /mnt/hadoop/dfs/data/current/subdir51/blk_8483848473254499625"#
        ),
        (
            "E2",
            #"081110 211541 18 INFO dfs.DataNode: 10.250.15.198:50010 Starting thread to transfer block blk_4292382298896622412 to 10.250.15.240:50010"#
        ),
        (
            "E4",
            #"081110 212510 19 INFO dfs.FSNamesystem: BLOCK* ask 10.250.18.114:50010 to delete  blk_-5140072410813878235"#
        ),
        (
            "E4",
            #"081110 221932 19 INFO dfs.FSNamesystem: BLOCK* ask 10.251.122.79:50010 to delete  blk_8048594464172649365"#
        ),
        (
            "E12",
            #"081111 050334 20441 INFO dfs.DataNode$DataXceiver: Received block blk_-4411589101766563890 src: /10.250.14.38:37362 dest: /10.250.14.38:50010 of size 67108864"#
        ),
    ]

    /// 24 lines of loghub's `Zookeeper_2k.log` (github.com/logpai/loghub at commit
    /// dd61d0952749ee7963bde24220d1be5ede023033; free for research use, citing the repository),
    /// each with its true template id from `Zookeeper_2k.log_structured.csv`.
    static let zookeeper: [(truth: String, line: String)] = [
        (
            "E31",
            #"2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200"#
        ),
        (
            "E40",
            #"2015-07-29 19:04:12,394 - INFO  [/10.10.34.11:3888:QuorumCnxManager$Listener@493] - Received connection request /10.10.34.11:45307"#
        ),
        (
            "E42",
            #"2015-07-29 19:04:29,071 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@688] - Send worker leaving thread"#
        ),
        (
            "E24",
            #"2015-07-29 19:04:29,079 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@679] - Interrupted while waiting for message on queue"#
        ),
        (
            "E42",
            #"2015-07-29 19:13:17,524 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@688] - Send worker leaving thread"#
        ),
        (
            "E11",
            #"2015-07-29 19:13:24,282 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@762] - Connection broken for id 188978561024, my id = 1, error = "#
        ),
        (
            "E40",
            #"2015-07-29 19:13:24,370 - INFO  [/10.10.34.11:3888:QuorumCnxManager$Listener@493] - Received connection request /10.10.34.13:57707"#
        ),
        (
            "E11",
            #"2015-07-29 19:13:27,721 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@762] - Connection broken for id 188978561024, my id = 1, error = "#
        ),
        (
            "E24",
            #"2015-07-29 19:13:34,382 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@679] - Interrupted while waiting for message on queue"#
        ),
        (
            "E25",
            #"2015-07-29 19:14:07,559 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@765] - Interrupting SendWorker"#
        ),
        (
            "E25",
            #"2015-07-29 19:14:24,329 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@765] - Interrupting SendWorker"#
        ),
        (
            "E10",
            #"2015-07-29 19:52:04,792 - INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@1001] - Closed socket connection for client /10.10.34.18:42772 which had sessionid 0x14ed93111f20005"#
        ),
        (
            "E6",
            #"2015-07-29 19:52:05,118 - WARN  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@349] - caught end of stream exception"#
        ),
        (
            "E10",
            #"2015-07-29 19:52:09,519 - INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@1001] - Closed socket connection for client /10.10.34.12:45542 which had sessionid 0x14ed93111f20002"#
        ),
        (
            "E8",
            #"2015-07-29 19:54:13,615 - INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:ZooKeeperServer@832] - Client attempting to renew session 0x24ed93119420016 at /10.10.34.13:37115"#
        ),
        (
            "E7",
            #"2015-07-29 21:01:41,504 - INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:ZooKeeperServer@839] - Client attempting to establish new session at /10.10.34.19:33425"#
        ),
        (
            "E13",
            #"2015-07-29 21:34:45,452 - INFO  [CommitProcessor:1:ZooKeeperServer@595] - Established session 0x14ed93111f20027 with negotiated timeout 10000 for client /10.10.34.13:37177"#
        ),
        (
            "E13",
            #"2015-07-29 21:34:48,285 - INFO  [CommitProcessor:1:ZooKeeperServer@595] - Established session 0x14ed93111f2002b with negotiated timeout 10000 for client /10.10.34.22:47073"#
        ),
        (
            "E2",
            #"2015-07-29 21:39:24,986 - INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@197] - Accepted socket connection from /10.10.34.13:37196"#
        ),
        (
            "E2",
            #"2015-07-29 21:39:28,234 - INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@197] - Accepted socket connection from /10.10.34.26:56952"#
        ),
        ("E50", #"2015-07-29 23:44:28,903 - ERROR [CommitProcessor:1:NIOServerCnxn@180] - Unexpected Exception: "#),
        (
            "E7",
            #"2015-07-30 14:53:21,340 - INFO  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:ZooKeeperServer@839] - Client attempting to establish new session at /10.10.34.11:50286"#
        ),
        (
            "E12",
            #"2015-07-30 16:12:01,554 - WARN  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:ZooKeeperServer@793] - Connection request from old client /10.10.34.19:33442; will be dropped if server is in r-o mode"#
        ),
        (
            "E12",
            #"2015-07-30 16:18:36,818 - WARN  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:ZooKeeperServer@793] - Connection request from old client /10.10.34.20:56418; will be dropped if server is in r-o mode"#
        ),
    ]
}
