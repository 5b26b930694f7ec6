/// One mapping of the config being read: its members by key, its key path and where it is.
struct ConfigSection {
    var keyPath: String
    var location: SourceLocation
    var members: [String: ValueSpec.Member]

    /// The value of `key`, or `nil` when the key is absent or null (null means "the default").
    func value(_ key: String) -> ValueSpec? {
        guard let value = members[key]?.value else { return nil }
        if case .null = value.kind { return nil }
        return value
    }

    /// `batch.max_bytes` for `max_bytes` in `batch`.
    func path(_ key: String) -> String {
        keyPath.isEmpty ? key : "\(keyPath).\(key)"
    }
}

/// Reads typed values out of a ``ValueSpec`` tree, collecting every problem instead of
/// stopping at the first, so that `check` can print them all.
///
/// Each reader returns `nil` both when the key is absent and when its value is wrong (after
/// recording why), so callers keep the default and go on.
struct ConfigValueReader {
    private(set) var errors: [ConfigError] = []

    mutating func fail(_ location: SourceLocation, _ keyPath: String?, _ message: String) {
        errors.append(ConfigError(at: location, keyPath: keyPath.flatMap { $0.isEmpty ? nil : $0 }, message: message))
    }

    mutating func append(_ error: ConfigError) {
        errors.append(error)
    }

    // MARK: Collections

    /// `spec` as a section when it is a mapping (null reads as an empty one); every key not in
    /// `allowed` is reported with a did-you-mean hint and left out.
    mutating func section(_ spec: ValueSpec, at keyPath: String, allowed: [String]) -> ConfigSection? {
        var section = ConfigSection(keyPath: keyPath, location: spec.location, members: [:])
        switch spec.kind {
        case .null:
            return section
        case .object(let members):
            for member in members {
                guard allowed.contains(member.key) else {
                    fail(member.keyLocation, keyPath, KeySuggestion.unknownKeyMessage(member.key, among: allowed))
                    continue
                }
                section.members[member.key] = member
            }
            return section
        default:
            fail(spec.location, keyPath, "expected a mapping, found \(spec.kindName)")
            return nil
        }
    }

    /// The items of a list; `nil` (after reporting) for anything else.
    mutating func list(_ spec: ValueSpec, at keyPath: String) -> [ValueSpec]? {
        if case .array(let items) = spec.kind { return items }
        fail(spec.location, keyPath, "expected a list, found \(spec.kindName)")
        return nil
    }

    /// A string, or a list of strings (`paths: /var/log/a.log` or `paths: [a, b]`); none empty.
    mutating func stringList(_ section: ConfigSection, _ key: String) -> [String]? {
        guard let spec = section.value(key) else { return nil }
        let keyPath = section.path(key)
        var items = [spec]
        var isList = false
        if case .array(let list) = spec.kind {
            items = list
            isList = true
        }
        var strings: [String] = []
        var valid = true
        for (index, item) in items.enumerated() {
            let itemPath = isList ? "\(keyPath)[\(index)]" : keyPath
            guard let text = item.scalarText else {
                fail(item.location, itemPath, "expected a string or a list of strings, found \(item.kindName)")
                valid = false
                continue
            }
            if text.isEmpty {
                fail(item.location, itemPath, "must not be empty")
                valid = false
                continue
            }
            strings.append(text)
        }
        return valid ? strings : nil
    }

    // MARK: Scalars

    /// A scalar as text (`7` reads as `"7"`). Never echoes the value in its messages, so it is
    /// safe for credentials.
    mutating func string(_ section: ConfigSection, _ key: String) -> String? {
        guard let spec = section.value(key) else { return nil }
        guard let text = spec.scalarText else {
            fail(spec.location, section.path(key), "expected a string, found \(spec.kindName)")
            return nil
        }
        return text
    }

    /// One of `choices` (case-sensitive).
    mutating func choice(_ section: ConfigSection, _ key: String, among choices: [String]) -> String? {
        guard let spec = section.value(key) else { return nil }
        guard let text = spec.scalarText, choices.contains(text) else {
            reject(spec, section.path(key), expected: "one of \(choices.joined(separator: ", "))")
            return nil
        }
        return text
    }

    /// `true` or `false` (also as quoted text, for `${VAR}` values).
    mutating func bool(_ section: ConfigSection, _ key: String) -> Bool? {
        guard let spec = section.value(key) else { return nil }
        switch spec.kind {
        case .bool(let flag): return flag
        case .string("true"): return true
        case .string("false"): return false
        default:
            reject(spec, section.path(key), expected: "true or false")
            return nil
        }
    }

    /// A whole number in `range`.
    mutating func integer(_ section: ConfigSection, _ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let spec = section.value(key) else { return nil }
        let number: Int?
        switch spec.kind {
        case .int(let value): number = Int(exactly: value)
        case .string(let text): number = Int(text.trimmingSpaces())
        default: number = nil
        }
        guard let number else {
            reject(spec, section.path(key), expected: "a whole number")
            return nil
        }
        guard range.contains(number) else {
            fail(spec.location, section.path(key), outOfRange(number, range))
            return nil
        }
        return number
    }

    /// A number greater than zero.
    mutating func positiveNumber(_ section: ConfigSection, _ key: String) -> Double? {
        guard let spec = section.value(key) else { return nil }
        let number: Double?
        switch spec.kind {
        case .int(let value): number = Double(value)
        case .double(let value): number = value
        case .string(let text): number = Double(text.trimmingSpaces())
        default: number = nil
        }
        guard let number, number.isFinite else {
            reject(spec, section.path(key), expected: "a number")
            return nil
        }
        guard number > 0 else {
            fail(spec.location, section.path(key), "\(shown(spec)) must be greater than 0")
            return nil
        }
        return number
    }

    /// A duration (`1.5s`, `200ms`, or a bare number of seconds); `positive` rejects zero.
    mutating func duration(_ section: ConfigSection, _ key: String, positive: Bool) -> Duration? {
        guard let spec = section.value(key) else { return nil }
        let duration: Duration?
        switch spec.kind {
        case .int(let value): duration = DurationParser.seconds(Double(value))
        case .double(let value): duration = DurationParser.seconds(value)
        case .string(let text): duration = DurationParser.parse(text)
        default: duration = nil
        }
        guard let duration else {
            reject(spec, section.path(key), expected: "a duration", hint: " (use \(DurationParser.expectedForm))")
            return nil
        }
        if positive, duration == .zero {
            fail(spec.location, section.path(key), "\(shown(spec)) must be longer than 0")
            return nil
        }
        return duration
    }

    /// A byte size (`500000`, `64KiB`, `1MB`) in `range`.
    mutating func size(_ section: ConfigSection, _ key: String, in range: ClosedRange<Int64>) -> Int64? {
        guard let spec = section.value(key) else { return nil }
        let bytes: Int64?
        switch spec.kind {
        case .int(let value): bytes = value >= 0 ? value : nil
        case .string(let text): bytes = SizeParser.parse(text)
        default: bytes = nil
        }
        guard let bytes else {
            reject(spec, section.path(key), expected: "a size", hint: " (use \(SizeParser.expectedForm))")
            return nil
        }
        guard range.contains(bytes) else {
            fail(spec.location, section.path(key), outOfRange(bytes, range, unit: "bytes"))
            return nil
        }
        return bytes
    }

    // MARK: Messages

    /// How a value is shown in a message: text quoted, numbers and booleans as written,
    /// collections by kind.
    func shown(_ spec: ValueSpec) -> String {
        switch spec.kind {
        case .string(let text): return "\"\(text)\""
        case .array, .object, .null: return spec.kindName
        case .int, .double, .bool: return spec.scalarText ?? spec.kindName
        }
    }

    /// `"soon" is not a duration (use …)` for a scalar, `expected a duration, found a list` for
    /// a collection.
    private mutating func reject(_ spec: ValueSpec, _ keyPath: String, expected noun: String, hint: String = "") {
        switch spec.kind {
        case .array, .object:
            fail(spec.location, keyPath, "expected \(noun), found \(spec.kindName)")
        default:
            fail(spec.location, keyPath, "\(shown(spec)) is not \(noun)\(hint)")
        }
    }

    private func outOfRange<Number: BinaryInteger>(
        _ number: Number,
        _ range: ClosedRange<Number>,
        unit: String = ""
    ) -> String {
        let below = number < range.lowerBound
        let bound = below ? range.lowerBound : range.upperBound
        let suffix = unit.isEmpty ? "" : bound == 1 ? " \(unit.dropLast())" : " \(unit)"
        return "\(number) is \(below ? "below the minimum" : "above the maximum") of \(bound)\(suffix)"
    }
}
