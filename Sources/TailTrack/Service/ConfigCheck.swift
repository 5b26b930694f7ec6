/// What `tailtrack check` found in a configuration.
public struct ConfigCheckReport: Sendable {
    /// Every problem, one line each, in file order: config errors, rule errors, credential errors.
    public var problems: [String]
    /// The loaded config, when it could be read at all.
    public var config: TailTrackConfig?
    /// The compiled rules, when they compiled.
    public var ruleSet: RuleSet?

    public var isValid: Bool { problems.isEmpty }

    /// One line for a valid config: `ok: 2 sources, 5 rules, 9 rule tests`.
    public var summary: String {
        let sources = config?.sources.count ?? 0
        let rules = ruleSet?.rules.count ?? 0
        let tests = ruleSet?.rules.reduce(0) { $0 + $1.tests.count } ?? 0
        return
            "ok: \(sources) source\(sources == 1 ? "" : "s"), \(rules) rule\(rules == 1 ? "" : "s"), \(tests) rule test\(tests == 1 ? "" : "s")"
    }
}

/// Loads a configuration and compiles its rules: the first step of every command.
public enum ConfigCheck {
    /// Loads `path` and compiles its rules, collecting every problem. With
    /// `requireCredentials`, missing or unreadable Track credentials are problems too (`run`,
    /// `check`); `dry-run` and `test` do without them.
    public static func load(path: String, environment: [String: String], requireCredentials: Bool) -> ConfigCheckReport
    {
        let (loaded, configErrors) = TailTrackConfig.loadCollectingErrors(path: path, environment: environment)
        guard let config = loaded else {
            return ConfigCheckReport(problems: configErrors.map(\.description), config: nil, ruleSet: nil)
        }
        var problems = configErrors.map(\.description)
        var ruleSet: RuleSet?
        do {
            ruleSet = try RuleSet.compile(config.rules, knownSources: Set(config.sources.map(\.name)))
        } catch {
            problems += error.errors.map(\.description)
        }
        if requireCredentials, config.output == .track {
            problems += config.track.credentialErrors.map(\.description)
        }
        return ConfigCheckReport(problems: problems, config: config, ruleSet: ruleSet)
    }
}
