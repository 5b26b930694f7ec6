import ArgumentParser
import Glibc
import TailTrack

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the tests embedded in the rules; print pass/fail per case; exit 1 on a failure."
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        let report = ConfigCheck.load(
            path: options.config, environment: ProcessEnvironment.current(), requireCredentials: false)
        guard let ruleSet = report.ruleSet, report.isValid else {
            for problem in report.problems { Output.err(problem) }
            throw ExitCode(1)
        }
        let runner = RuleTestRunner(ruleSet: ruleSet, defaultSource: report.config?.sources.first?.name)
        let results = runner.run(readTime: Int64(time(nil)))
        for result in results {
            if let failure = result.failure {
                Output.out("FAIL \(result.rule) \(result.name) (\(result.location)): \(failure)")
            } else {
                Output.out("PASS \(result.rule) \(result.name)")
            }
        }
        let failed = results.filter { !$0.passed }.count
        let untested = ruleSet.rules.filter { $0.tests.isEmpty }.map(\.name)
        if !untested.isEmpty {
            Output.out("rules without tests: \(untested.joined(separator: ", "))")
        }
        Output.out("\(results.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
