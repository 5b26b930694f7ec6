import Foundation
import Testing

/// `packaging/build-deb.sh` builds a .deb (from the debug binary here) that installs the
/// binary, a unit systemd accepts, the config as conffiles, example rules and a man page.
@Suite(.serialized) struct ServicePackagingTests {
    private static let hasSystemdAnalyze = FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")
    private static let hasDpkgDeb = FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-deb")

    private func buildDeb(into scratch: TemporaryDirectory) throws -> String {
        let result = try serviceRun(
            "/bin/bash",
            [
                servicePackageRoot + "/packaging/build-deb.sh", "--binary", serviceBinary, "--output",
                scratch.file("out"), "--version", "1.2.3", "--fast",
            ])
        #expect(result.status == 0, "\(result.output)")
        return result.output.split(separator: "\n").last.map(String.init) ?? ""
    }

    @Test(.enabled(if: hasDpkgDeb, "dpkg-deb is not installed"))
    func theDebHoldsTheBinaryUnitConffilesRulesAndManPage() throws {
        let scratch = try TemporaryDirectory()
        let deb = try buildDeb(into: scratch)
        #expect(deb.hasPrefix(scratch.file("out") + "/tailtrack_1.2.3_"))
        #expect(deb.hasSuffix(".deb"))

        let info = try serviceRun("/usr/bin/dpkg-deb", ["-I", deb])
        #expect(info.status == 0)
        #expect(info.output.contains(" Package: tailtrack\n"))
        #expect(info.output.contains(" Version: 1.2.3\n"))
        #expect(info.output.contains(" Depends: libc6, libpcre2-8-0, zlib1g, libstdc++6, adduser\n"))
        for script in ["postinst", "prerm", "postrm", "conffiles"] {
            #expect(info.output.contains("  \(script)  "), "\(script) missing: \(info.output)")
        }
        let conffiles = try serviceRun("/usr/bin/dpkg-deb", ["-I", deb, "conffiles"])
        #expect(
            conffiles.output
                == "/etc/tailtrack/tailtrack.yml\n/etc/tailtrack/environment\n/etc/tailtrack/rules.d/README\n")

        let contents = try serviceRun("/usr/bin/dpkg-deb", ["-c", deb])
        #expect(contents.status == 0)
        let paths = Set(
            contents.output.split(separator: "\n").compactMap { $0.split(separator: " ").last }.map(String.init))
        let expected: Set<String> = [
            "./usr/bin/tailtrack", "./usr/lib/systemd/system/tailtrack.service", "./etc/tailtrack/tailtrack.yml",
            "./etc/tailtrack/environment", "./etc/tailtrack/rules.d/", "./etc/tailtrack/rules.d/README",
            "./usr/share/man/man1/tailtrack.1.gz", "./usr/share/doc/tailtrack/README.Debian",
            "./usr/share/doc/tailtrack/examples/rules/nginx.yml", "./usr/share/doc/tailtrack/examples/rules/logfmt.yml",
            "./usr/share/doc/tailtrack/examples/rules/json-app.yml",
        ]
        #expect(expected.subtracting(paths).isEmpty, "missing: \(expected.subtracting(paths).sorted())")
        #expect(contents.output.contains("-rwxr-xr-x root/root"))

        // Compressed with xz, as dpkg compresses Debian's own packages.
        let members = try serviceRun("/usr/bin/ar", ["t", deb])
        #expect(members.output.split(separator: "\n").contains("data.tar.xz"), "\(members.output)")
    }

    /// The packaged binary is stripped; its debug information is in tailtrack-dbgsym under the
    /// binary's build id, where gdb and coredumpctl look for it.
    @Test(.enabled(if: hasDpkgDeb, "dpkg-deb is not installed"))
    func theBinaryIsStrippedAndItsSymbolsAreInTheDbgsymPackage() throws {
        let scratch = try TemporaryDirectory()
        let deb = try buildDeb(into: scratch)
        let ddeb = deb.replacingOccurrences(of: "/tailtrack_1.2.3_", with: "/tailtrack-dbgsym_1.2.3_")
            .replacingOccurrences(of: ".deb", with: ".ddeb")
        #expect(FileManager.default.fileExists(atPath: ddeb), "no \(ddeb)")
        let root = scratch.file("root")
        let symbols = scratch.file("dbgsym")
        #expect(try serviceRun("/usr/bin/dpkg-deb", ["-x", deb, root]).status == 0)
        #expect(try serviceRun("/usr/bin/dpkg-deb", ["-x", ddeb, symbols]).status == 0)

        let sections = try serviceRun("/usr/bin/readelf", ["-S", "-W", root + "/usr/bin/tailtrack"])
        #expect(sections.status == 0)
        #expect(!sections.output.contains(".debug_info"), "the packaged binary still has debug information")
        #expect(!sections.output.contains(" .symtab "), "the packaged binary still has its symbol table")
        let notes = try serviceRun("/usr/bin/readelf", ["-n", root + "/usr/bin/tailtrack"])
        let buildID =
            notes.output.split(separator: "\n").first { $0.contains("Build ID:") }
            .map { String($0.split(separator: " ").last ?? "") } ?? ""
        #expect(buildID.count == 40, "\(notes.output)")
        let debugFile =
            symbols + "/usr/lib/debug/.build-id/\(buildID.prefix(2))/\(buildID.dropFirst(2)).debug"
        #expect(FileManager.default.fileExists(atPath: debugFile), "missing \(debugFile)")
        let debugSections = try serviceRun("/usr/bin/readelf", ["-S", "-W", debugFile])
        #expect(debugSections.output.contains(".debug_info"))

        let control = try serviceRun("/usr/bin/dpkg-deb", ["-I", ddeb])
        #expect(control.output.contains(" Package: tailtrack-dbgsym\n"))
        #expect(control.output.contains(" Depends: tailtrack (= 1.2.3)\n"))
        #expect(control.output.contains(" Build-Ids: \(buildID)\n"))
        // The stripped binary still runs.
        let help = try serviceRun(root + "/usr/bin/tailtrack", ["--help"])
        #expect(help.status == 0)
    }

    /// Root, dpkg, and no tailtrack package already on the machine: install for real, then purge.
    private static let canInstallForReal: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg"),
            FileManager.default.isExecutableFile(atPath: "/usr/sbin/adduser")
        else { return false }
        let status = try? serviceRun("/usr/bin/dpkg", ["-s", "tailtrack"])
        return status.map { $0.status != 0 } ?? false
    }()

    @Test(.enabled(if: canInstallForReal, "needs root, dpkg and adduser, and no tailtrack package installed"))
    func dpkgInstallCreatesTheUserAndPurgeRemovesEverything() throws {
        let scratch = try TemporaryDirectory()
        let deb = try buildDeb(into: scratch)
        let install = try serviceRun("/usr/bin/dpkg", ["-i", deb])
        defer { _ = try? serviceRun("/usr/bin/dpkg", ["--purge", "tailtrack"]) }
        #expect(install.status == 0, "\(install.output)")

        let user = try serviceRun("/usr/bin/getent", ["passwd", "tailtrack"])
        #expect(user.status == 0)
        #expect(user.output.contains(":/var/lib/tailtrack:/usr/sbin/nologin"))
        let groups = try serviceRun("/usr/bin/id", ["-nG", "tailtrack"])
        #expect(
            groups.output.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.contains(
                "adm"))
        let help = try serviceRun("/usr/bin/tailtrack", ["--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("USAGE: tailtrack <subcommand>"))
        #expect(FileManager.default.fileExists(atPath: "/etc/tailtrack/tailtrack.yml"))
        #expect(FileManager.default.fileExists(atPath: "/usr/lib/systemd/system/tailtrack.service"))

        let purge = try serviceRun("/usr/bin/dpkg", ["--purge", "tailtrack"])
        #expect(purge.status == 0, "\(purge.output)")
        #expect(!FileManager.default.fileExists(atPath: "/usr/bin/tailtrack"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/tailtrack/tailtrack.yml"))
    }

    @Test(.enabled(if: hasDpkgDeb, "dpkg-deb is not installed"))
    func theInstalledDefaultConfigPassesCheckWithCredentialsFromSystemd() throws {
        let scratch = try TemporaryDirectory()
        let deb = try buildDeb(into: scratch)
        let root = scratch.file("root")
        #expect(try serviceRun("/usr/bin/dpkg-deb", ["-x", deb, root]).status == 0)

        // The default config includes /etc/tailtrack/rules.d; point it at the unpacked tree.
        let config = try String(contentsOfFile: root + "/etc/tailtrack/tailtrack.yml", encoding: .utf8)
        #expect(config.contains("api_key_file: api_key"))
        try config.replacingOccurrences(of: "/etc/tailtrack/rules.d", with: root + "/etc/tailtrack/rules.d")
            .write(toFile: scratch.file("tailtrack.yml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(
            atPath: scratch.file("credentials"), withIntermediateDirectories: true)
        try "secret-key\n".write(toFile: scratch.file("credentials/api_key"), atomically: true, encoding: .utf8)

        let missing = try serviceRun(
            root + "/usr/bin/tailtrack", ["check", "--config", scratch.file("tailtrack.yml")],
            environment: ["CREDENTIALS_DIRECTORY": scratch.file("credentials")])
        #expect(missing.status == 1)
        #expect(missing.output.contains("CIO_SITE_ID"), "\(missing.output)")
        let clean = try serviceRun(
            root + "/usr/bin/tailtrack", ["check", "--config", scratch.file("tailtrack.yml")],
            environment: ["CIO_SITE_ID": "site", "CREDENTIALS_DIRECTORY": scratch.file("credentials")])
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output == "ok: 1 source, 0 rules, 0 rule tests\n")

        let help = try serviceRun(root + "/usr/bin/tailtrack", ["run", "--help"])
        #expect(help.output.contains("SIGHUP"))
    }

    @Test(
        .enabled(if: hasDpkgDeb, "dpkg-deb is not installed"),
        .enabled(if: hasSystemdAnalyze, "systemd-analyze is not installed; the unit is not verified"))
    func systemdAnalyzeVerifiesTheInstalledUnit() throws {
        let scratch = try TemporaryDirectory()
        let deb = try buildDeb(into: scratch)
        let root = scratch.file("root")
        #expect(try serviceRun("/usr/bin/dpkg-deb", ["-x", deb, root]).status == 0)
        let unit = try String(contentsOfFile: root + "/usr/lib/systemd/system/tailtrack.service", encoding: .utf8)
        for line in [
            "Type=notify", "WatchdogSec=30s", "Restart=on-failure", "User=tailtrack", "SupplementaryGroups=adm",
            "StateDirectory=tailtrack", "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes",
            "PrivateTmp=yes", "ReadOnlyPaths=/var/log", "LoadCredential=api_key:/etc/tailtrack/api_key",
            "ExecReload=/bin/kill -HUP $MAINPID", "LimitNOFILE=1024:524288",
            "ExecStartPre=/usr/bin/tailtrack check --config /etc/tailtrack/tailtrack.yml",
        ] {
            #expect(unit.contains("\n" + line + "\n"), "\(line) missing")
        }
        // systemd checks that the commands exist: point them at the unpacked binary.
        try unit.replacingOccurrences(of: "/usr/bin/tailtrack", with: root + "/usr/bin/tailtrack")
            .write(toFile: scratch.file("tailtrack.service"), atomically: true, encoding: .utf8)
        let verify = try serviceRun(
            "/usr/bin/systemd-analyze", ["verify", "--man=no", scratch.file("tailtrack.service")])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output == "", "systemd-analyze warned: \(verify.output)")
    }
}
