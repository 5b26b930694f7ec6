@testable import TailTrack

/// Rules from YAML, as a user writes them.
func compileRules(_ yaml: String, sources: Set<String>? = nil) throws -> RuleSet {
    let spec = try ValueSpec.parseYAML(yaml, file: "rules.yml", environment: [:])
    guard case .array(let items) = spec.kind else {
        throw RuleErrors([RuleError(at: spec.location, rule: nil, keyPath: nil, message: "test rules must be a list")])
    }
    return try RuleSet.compile(items, knownSources: sources)
}

/// The error lines compiling `yaml` gives (empty when it compiles).
func ruleErrors(_ yaml: String, sources: Set<String>? = nil) -> [String] {
    do {
        _ = try compileRules(yaml, sources: sources)
        return []
    } catch let errors as RuleErrors {
        return errors.errors.map(\.description)
    } catch {
        return ["\(error)"]
    }
}

/// A fixed "time the line was read": 2026-11-22T10:00:00Z.
let testReadTime: Int64 = 1_795_341_600

/// What the rules make of one line: operations as JSON text, rejections as "REJECTED rule: reason".
func outcomes(
    _ ruleSet: RuleSet,
    line: String,
    source: String = "app",
    offset: UInt64 = 0,
    fingerprint: FileFingerprint = FileFingerprint(value: 0xABCD, length: 10)
) -> [String] {
    let evaluator = ruleSet.makeEvaluator()
    var results: [String] = []
    Array(line.utf8).withUnsafeBytes { bytes in
        evaluator.evaluate(
            bytes,
            source: source,
            path: "/var/log/app.log",
            fingerprint: fingerprint,
            offset: offset,
            readTime: testReadTime
        ) { outcome in
            switch outcome {
            case .operation(let operation): results.append(String(decoding: operation.bytes, as: UTF8.self))
            case .rejected(let rejection): results.append("REJECTED \(rejection.rule): \(rejection.reason)")
            }
        }
    }
    return results
}

/// The operations for `line` parsed back into JSON values.
func operations(_ ruleSet: RuleSet, line: String, source: String = "app", offset: UInt64 = 0) -> [JSONValue] {
    outcomes(ruleSet, line: line, source: source, offset: offset).compactMap { text in
        Array(text.utf8).withUnsafeBytes { JSONLineParser.parse($0) }
    }
}
