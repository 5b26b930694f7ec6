import Foundation
import Testing

/// The daemon against real logrotate in every mode, with `kill -9` at random moments and
/// restarts: every written line arrives, and a line delivered twice carries the same id.
@Suite(.serialized, .enabled(if: Logrotate.isInstalled, "needs /usr/sbin/logrotate"))
struct LogrotateTests {
    /// Writes rounds of lines, rotates after each, and kills the daemon in some rounds.
    private func rotateRounds(
        _ scenario: Scenario, logrotate: Logrotate, rounds: Int = 6, linesPerRound: Int = 2000,
        kills: Bool = true, betweenRotations: () -> Void = {}
    ) throws {
        for round in 0..<rounds {
            try scenario.writer.append(linesPerRound / 2, to: scenario.log)
            if kills && round % 2 == 1 { try scenario.killAtRandomMoment() }
            try scenario.writer.append(linesPerRound / 2, to: scenario.log)
            betweenRotations()
            try logrotate.rotate()
            if kills && round % 3 == 2 { try scenario.killAtRandomMoment(upTo: 200) }
        }
        try scenario.writer.append(500, to: scenario.log)
    }

    @Test func createWithKills() throws {
        let scenario = try Scenario("create")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        let logrotate = try Logrotate(
            directory: scenario.environment.root, logPath: scenario.log, directives: ["create"])
        try scenario.writer.append(10, to: scenario.log)
        try scenario.daemon.start()
        try rotateRounds(scenario, logrotate: logrotate)
        scenario.finish()
    }

    @Test func createWithDateextAndGlob() throws {
        let scenario = try Scenario("dateext")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.logs + "/app.log*"])
        let logrotate = try Logrotate(
            directory: scenario.environment.root, logPath: scenario.log,
            directives: ["create", "dateext", "dateformat -%Y%m%d%H%M%S"])
        try scenario.writer.append(10, to: scenario.log)
        try scenario.daemon.start()
        // dateext names have a one-second resolution: one rotation a second.
        try rotateRounds(scenario, logrotate: logrotate, rounds: 4) { usleep(1_050_000) }
        scenario.finish()
    }

    /// olddir, agent running: the renamed file is read to its end through the open descriptor.
    @Test func createWithOlddir() throws {
        try olddir(kills: false)
    }

    /// olddir with the agent killed at random moments: a file moved to `old/` while the agent
    /// was down is found there (`rotated_dir: old`) and finished from its saved position.
    @Test func createWithOlddirAndKills() throws {
        try olddir(kills: true)
    }

    private func olddir(kills: Bool) throws {
        let scenario = try Scenario("olddir")
        defer { scenario.cleanUp() }
        try FileManager.default.createDirectory(atPath: scenario.logs + "/old", withIntermediateDirectories: true)
        try scenario.environment.writeConfig(paths: [scenario.log], extraSource: "rotated_dir: old")
        let logrotate = try Logrotate(
            directory: scenario.environment.root, logPath: scenario.log, directives: ["create", "olddir old"])
        try scenario.writer.append(10, to: scenario.log)
        try scenario.daemon.start()
        // Rotations do not wait for the agent: a file moved to old/ before the agent saw it at
        // the live path is found there by rotated_dir.
        try rotateRounds(scenario, logrotate: logrotate, kills: kills)
        scenario.finish()
    }

    @Test func copytruncateWithKills() throws {
        let scenario = try Scenario("copytruncate")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        let logrotate = try Logrotate(
            directory: scenario.environment.root, logPath: scenario.log, directives: ["copytruncate"])
        try scenario.writer.append(10, to: scenario.log)
        try scenario.daemon.start()
        try rotateRounds(scenario, logrotate: logrotate)
        scenario.finish()
    }

    /// copytruncate, then at once more bytes than the old offset (the file grew back past
    /// it), with the agent running and with it stopped across the rotation.
    @Test func copytruncateGrowsBackPastOffset() throws {
        let scenario = try Scenario("copytruncate-regrow")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        let logrotate = try Logrotate(
            directory: scenario.environment.root, logPath: scenario.log, directives: ["copytruncate"])
        try scenario.writer.append(1000, to: scenario.log)
        try scenario.daemon.start()
        scenario.waitForDelivery()
        scenario.daemon.pause()
        try scenario.writer.append(300, to: scenario.log)
        try logrotate.rotate()
        try scenario.writer.append(3000, to: scenario.log)
        scenario.daemon.resume()
        scenario.waitForDelivery()
        #expect(scenario.daemon.terminate() == 0)
        try scenario.writer.append(300, to: scenario.log)
        try logrotate.rotate()
        try scenario.writer.append(3000, to: scenario.log)
        try scenario.daemon.start()
        scenario.finish()
    }

    /// compress without delaycompress: the file being read becomes `app.log.1.gz` while the
    /// agent is frozen (behind) or stopped; it is found by identity and resumed inside it.
    @Test func compressWhileBehindOrStopped() throws {
        let scenario = try Scenario("compress")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        let logrotate = try Logrotate(
            directory: scenario.environment.root, logPath: scenario.log, directives: ["create", "compress"])
        try scenario.writer.append(2000, to: scenario.log)
        try scenario.daemon.start()
        scenario.waitForDelivery()
        // Behind: frozen while the file is rotated and compressed.
        scenario.daemon.pause()
        try scenario.writer.append(2000, to: scenario.log)
        try logrotate.rotate()
        try scenario.writer.append(500, to: scenario.log)
        scenario.daemon.resume()
        scenario.waitForDelivery()
        // Stopped: half read, then rotated and compressed, then started.
        try scenario.writer.append(20000, to: scenario.log)
        _ = eventually { scenario.delivered.ids.count > scenario.writer.written.count - 15000 }
        scenario.daemon.kill9()
        try logrotate.rotate()
        try scenario.writer.append(500, to: scenario.log)
        try scenario.daemon.start()
        // And killed at random moments across more compressed rotations.
        try rotateRounds(scenario, logrotate: logrotate, rounds: 4)
        scenario.finish()
    }

    @Test func compressWithDelaycompress() throws {
        let scenario = try Scenario("delaycompress")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        let logrotate = try Logrotate(
            directory: scenario.environment.root, logPath: scenario.log,
            directives: ["create", "compress", "delaycompress"])
        try scenario.writer.append(10, to: scenario.log)
        try scenario.daemon.start()
        try rotateRounds(scenario, logrotate: logrotate)
        // Stopped across two rotations: the file read last is now compressed.
        try scenario.writer.append(5000, to: scenario.log)
        scenario.daemon.kill9()
        try logrotate.rotate()
        try scenario.writer.append(500, to: scenario.log)
        try logrotate.rotate()
        try scenario.writer.append(500, to: scenario.log)
        try scenario.daemon.start()
        scenario.finish()
    }

    /// The file deleted while open (agent frozen): what was written before is still read
    /// through the open descriptor; the recreated file is read from 0.
    @Test func deletedWhileOpen() throws {
        let scenario = try Scenario("deleted")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.log])
        try scenario.writer.append(1000, to: scenario.log)
        try scenario.daemon.start()
        scenario.waitForDelivery()
        for _ in 0..<3 {
            scenario.daemon.pause()
            try scenario.writer.append(2000, to: scenario.log)
            try FileManager.default.removeItem(atPath: scenario.log)
            scenario.daemon.resume()
            usleep(200_000)
            try scenario.writer.append(1000, to: scenario.log)
            scenario.waitForDelivery()
        }
        scenario.finish()
    }

    /// Row 4: glob `app.log*`; stop, rotate three times (`.1`, `.2`, `.3.gz`), start: no
    /// line twice, none missing.
    @Test func stoppedAcrossThreeRotations() throws {
        let scenario = try Scenario("three-rotations")
        defer { scenario.cleanUp() }
        try scenario.environment.writeConfig(paths: [scenario.logs + "/app.log*"])
        let logrotate = try Logrotate(
            directory: scenario.environment.root, logPath: scenario.log,
            directives: ["create", "compress", "delaycompress"])
        try scenario.writer.append(3000, to: scenario.log)
        try scenario.daemon.start()
        scenario.waitForDelivery()
        #expect(scenario.daemon.terminate() == 0)
        for _ in 0..<3 {
            try scenario.writer.append(1000, to: scenario.log)
            try logrotate.rotate()
        }
        try scenario.writer.append(100, to: scenario.log)
        #expect(FileManager.default.fileExists(atPath: scenario.log + ".3.gz"))
        try scenario.daemon.start()
        scenario.finish(allowDuplicates: false)
    }
}
