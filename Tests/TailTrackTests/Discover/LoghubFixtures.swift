/// Small excerpts of two loghub datasets, with their ground truth.
enum LoghubFixtures {
    /// 18 lines of loghub's `Apache_2k.log` (github.com/logpai/loghub at commit
    /// dd61d0952749ee7963bde24220d1be5ede023033; free for research use, citing the repository),
    /// each with its true template id from `Apache_2k.log_structured.csv`.
    static let apache: [(truth: String, line: String)] = [
        ("E2", #"[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties"#),
        ("E3", #"[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6"#),
        ("E1", #"[Sun Dec 04 04:51:08 2005] [notice] jk2_init() Found child 6725 in scoreboard slot 10"#),
        ("E1", #"[Sun Dec 04 04:51:09 2005] [notice] jk2_init() Found child 6726 in scoreboard slot 8"#),
        ("E1", #"[Sun Dec 04 04:51:09 2005] [notice] jk2_init() Found child 6728 in scoreboard slot 6"#),
        ("E2", #"[Sun Dec 04 04:51:14 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties"#),
        ("E2", #"[Sun Dec 04 04:51:14 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties"#),
        ("E3", #"[Sun Dec 04 04:51:18 2005] [error] mod_jk child workerEnv in error state 6"#),
        ("E3", #"[Sun Dec 04 04:51:18 2005] [error] mod_jk child workerEnv in error state 6"#),
        (
            "E4",
            #"[Sun Dec 04 05:15:09 2005] [error] [client 222.166.160.184] Directory index forbidden by rule: /var/www/html/"#
        ),
        (
            "E4",
            #"[Sun Dec 04 07:45:45 2005] [error] [client 63.13.186.196] Directory index forbidden by rule: /var/www/html/"#
        ),
        (
            "E4",
            #"[Sun Dec 04 08:54:17 2005] [error] [client 147.31.138.75] Directory index forbidden by rule: /var/www/html/"#
        ),
        ("E5", #"[Sun Dec 04 17:43:08 2005] [error] jk2_init() Can't find child 1566 in scoreboard"#),
        ("E5", #"[Sun Dec 04 17:43:08 2005] [error] jk2_init() Can't find child 1567 in scoreboard"#),
        ("E6", #"[Sun Dec 04 17:43:12 2005] [error] mod_jk child init 1 -2"#),
        ("E6", #"[Sun Dec 04 17:43:12 2005] [error] mod_jk child init 1 -2"#),
        ("E5", #"[Sun Dec 04 20:47:16 2005] [error] jk2_init() Can't find child 2082 in scoreboard"#),
        ("E6", #"[Sun Dec 04 20:47:16 2005] [error] mod_jk child init 1 -2"#),
    ]

    /// 24 lines of loghub's `Hadoop_2k.log` (github.com/logpai/loghub at commit
    /// dd61d0952749ee7963bde24220d1be5ede023033; free for research use, citing the repository),
    /// each with its true template id from `Hadoop_2k.log_structured.csv`.
    static let hadoop: [(truth: String, line: String)] = [
        (
            "E29",
            #"2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001"#
        ),
        (
            "E42",
            #"2015-10-18 18:01:48,963 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Executing with tokens:"#
        ),
        (
            "E111",
            #"2015-10-18 18:01:49,228 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Using mapred newApiCommitter."#
        ),
        (
            "E76",
            #"2015-10-18 18:01:50,353 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: OutputCommitter set in config null"#
        ),
        (
            "E75",
            #"2015-10-18 18:01:50,509 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: OutputCommitter is org.apache.hadoop.mapreduce.lib.output.FileOutputCommitter"#
        ),
        (
            "E31",
            #"2015-10-18 18:01:50,634 INFO [main] org.apache.hadoop.mapreduce.v2.jobhistory.JobHistoryUtils: Default file system [hdfs://msra-sa-41:9000]"#
        ),
        (
            "E31",
            #"2015-10-18 18:01:50,666 INFO [main] org.apache.hadoop.mapreduce.v2.jobhistory.JobHistoryUtils: Default file system [hdfs://msra-sa-41:9000]"#
        ),
        (
            "E37",
            #"2015-10-18 18:01:50,728 INFO [main] org.apache.hadoop.mapreduce.jobhistory.JobHistoryEventHandler: Emitting job history data to the timeline server is not enabled"#
        ),
        (
            "E63",
            #"2015-10-18 18:01:51,197 INFO [main] org.apache.hadoop.metrics2.impl.MetricsConfig: loaded properties from hadoop-metrics2.properties"#
        ),
        (
            "E92",
            #"2015-10-18 18:01:51,306 INFO [main] org.apache.hadoop.metrics2.impl.MetricsSystemImpl: Scheduled snapshot period at 10 second(s)."#
        ),
        (
            "E69",
            #"2015-10-18 18:01:51,306 INFO [main] org.apache.hadoop.metrics2.impl.MetricsSystemImpl: MRAppMaster metrics system started"#
        ),
        (
            "E7",
            #"2015-10-18 18:01:51,322 INFO [main] org.apache.hadoop.mapreduce.v2.app.job.impl.JobImpl: Adding job token for job_1445144423722_0020 to jobTokenSecretManager"#
        ),
        (
            "E71",
            #"2015-10-18 18:01:51,619 INFO [main] org.apache.hadoop.mapreduce.v2.app.job.impl.JobImpl: Not uberizing job_1445144423722_0020 because: not enabled; too many maps; too much input;"#
        ),
        (
            "E48",
            #"2015-10-18 18:01:51,650 INFO [main] org.apache.hadoop.mapreduce.v2.app.job.impl.JobImpl: Input size for job job_1445144423722_0020 = 1256521728. Number of splits = 10"#
        ),
        (
            "E73",
            #"2015-10-18 18:01:51,650 INFO [main] org.apache.hadoop.mapreduce.v2.app.job.impl.JobImpl: Number of reduces for job job_1445144423722_0020 = 1"#
        ),
        (
            "E55",
            #"2015-10-18 18:01:51,650 INFO [main] org.apache.hadoop.mapreduce.v2.app.job.impl.JobImpl: job_1445144423722_0020Job Transitioned from NEW to INITED"#
        ),
        (
            "E68",
            #"2015-10-18 18:01:51,650 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: MRAppMaster launching normal, non-uberized, multi-container job job_1445144423722_0020."#
        ),
        (
            "E110",
            #"2015-10-18 18:01:51,713 INFO [main] org.apache.hadoop.ipc.CallQueueManager: Using callQueue class java.util.concurrent.LinkedBlockingQueue"#
        ),
        (
            "E98",
            #"2015-10-18 18:01:51,775 INFO [Socket Reader #1 for port 62260] org.apache.hadoop.ipc.Server: Starting Socket Reader #1 for port 62260"#
        ),
        (
            "E9",
            #"2015-10-18 18:01:51,791 INFO [main] org.apache.hadoop.yarn.factories.impl.pb.RpcServerFactoryPBImpl: Adding protocol org.apache.hadoop.mapreduce.v2.api.MRClientProtocolPB to the server"#
        ),
        (
            "E49",
            #"2015-10-18 18:01:51,791 INFO [main] org.apache.hadoop.mapreduce.v2.app.client.MRClientService: Instantiated MRClientService at MININT-FNANLI5.fareast.corp.microsoft.com/10.86.169.121:62260"#
        ),
        (
            "E51",
            #"2015-10-18 18:01:51,806 INFO [IPC Server Responder] org.apache.hadoop.ipc.Server: IPC Server Responder: starting"#
        ),
        (
            "E50",
            #"2015-10-18 18:01:51,806 INFO [IPC Server listener on 62260] org.apache.hadoop.ipc.Server: IPC Server listener on 62260: starting"#
        ),
        (
            "E64",
            #"2015-10-18 18:01:51,885 INFO [main] org.mortbay.log: Logging to org.slf4j.impl.Log4jLoggerAdapter(org.mortbay.log) via org.mortbay.log.Slf4jLog"#
        ),
    ]
}
