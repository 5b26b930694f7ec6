import Yams

extension ValueSpec {
    /// Parses one YAML document into a tree whose every node knows its file and line.
    ///
    /// Plain scalars are typed by YAML's core schema (`7` → int, `9.5` → double, `true` → bool,
    /// `~` → null); quoted scalars stay strings. `${VAR}` is substituted in every string
    /// scalar from `environment`; a plain scalar holding a reference stays a string. An empty
    /// document is null. Throws every problem found (syntax, duplicate keys, unset variables).
    ///
    /// - Parameter keyPath: the key path of the root, for messages (`""` for a whole file).
    public static func parseYAML(
        _ text: String,
        file: String,
        environment: [String: String],
        keyPath: String = ""
    ) throws(ConfigErrors) -> ValueSpec {
        let document = YAMLDocument.parse(text, file: file, environment: environment, keyPath: keyPath)
        if !document.errors.isEmpty { throw ConfigErrors(document.errors) }
        return document.root
    }
}

/// One parsed YAML text: the tree and every problem found building it, in line order.
///
/// The config loader uses this rather than ``ValueSpec/parseYAML(_:file:environment:keyPath:)``
/// because it files some problems (an unset `${CIO_API_KEY}`) as credential errors instead of
/// throwing them.
struct YAMLDocument {
    var root: ValueSpec
    var errors: [ConfigError]
    /// Whether the text is not YAML at all: `root` is then an empty stand-in, and checking
    /// it further would only add errors about keys that are there but could not be read.
    var isInvalidYAML = false

    /// - Parameters:
    ///   - keyPath: the key path of the root.
    ///   - rootListName: the key path given to a root list (`rules` for a rules file), so that
    ///     its items read `rules[2]` rather than `[2]`.
    static func parse(
        _ text: String,
        file: String,
        environment: [String: String],
        keyPath: String = "",
        rootListName: String = ""
    ) -> YAMLDocument {
        let empty = ValueSpec(.null, at: SourceLocation(file: file, line: 1, column: 1))
        let node: Node?
        do {
            node = try Yams.compose(yaml: text, .basic, .default, .utf8)
        } catch let error as YamlError {
            return YAMLDocument(
                root: empty, errors: YAMLSyntaxProblem.errors(for: error, text: text, file: file), isInvalidYAML: true)
        } catch {
            return YAMLDocument(
                root: empty,
                errors: [ConfigError(file: file, line: 1, keyPath: nil, message: "invalid YAML: \(error)")],
                isInvalidYAML: true
            )
        }
        guard let node else { return YAMLDocument(root: empty, errors: []) }
        var builder = ValueSpecBuilder(file: file, environment: environment, rootListName: rootListName)
        let root = builder.build(node, keyPath: keyPath)
        let errors = builder.errors.enumerated()
            .sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }
            .map(\.element)
        return YAMLDocument(root: root, errors: errors)
    }
}

/// Turns a Yams node tree into ``ValueSpec``s, substituting `${VAR}` and typing scalars.
private struct ValueSpecBuilder {
    let file: String
    let environment: [String: String]
    let rootListName: String
    var errors: [ConfigError] = []

    mutating func build(_ node: Node, keyPath: String) -> ValueSpec {
        let location = self.location(of: node)
        switch node {
        case .scalar(let scalar):
            return ValueSpec(scalarKind(scalar, keyPath: keyPath, location: location), at: location)
        case .sequence(let sequence):
            let listPath = keyPath.isEmpty ? rootListName : keyPath
            var items: [ValueSpec] = []
            for (index, item) in sequence.enumerated() {
                items.append(build(item, keyPath: "\(listPath)[\(index)]"))
            }
            return ValueSpec(.array(items), at: location)
        case .mapping(let mapping):
            return ValueSpec(.object(members(of: mapping, keyPath: keyPath)), at: location)
        case .alias:
            fail(location, keyPath, "an alias that names no anchor")
            return ValueSpec(.null, at: location)
        }
    }

    /// The members in written order, then those merged in by `<<: *anchor` that are not
    /// written explicitly (the first merged mapping wins, as YAML's merge key says).
    private mutating func members(of mapping: Node.Mapping, keyPath: String) -> [ValueSpec.Member] {
        var members: [ValueSpec.Member] = []
        var merged: [ValueSpec.Member] = []
        for (keyNode, valueNode) in mapping {
            let keyLocation = location(of: keyNode)
            guard case .scalar(let keyScalar) = keyNode else {
                fail(keyLocation, keyPath, "a key must be text, found a \(keyNode.mapping != nil ? "mapping" : "list")")
                continue
            }
            let key = keyScalar.string
            if key == "<<", keyScalar.style == .plain {
                merged += mergedMembers(build(valueNode, keyPath: keyPath), keyPath: keyPath)
                continue
            }
            let childPath = keyPath.isEmpty ? key : "\(keyPath).\(key)"
            members.append(
                ValueSpec.Member(key: key, keyLocation: keyLocation, value: build(valueNode, keyPath: childPath)))
        }
        var seen = Set(members.map(\.key))
        for member in merged where !seen.contains(member.key) {
            seen.insert(member.key)
            members.append(member)
        }
        return members
    }

    private mutating func mergedMembers(_ value: ValueSpec, keyPath: String) -> [ValueSpec.Member] {
        switch value.kind {
        case .object(let members):
            return members
        case .array(let items):
            var members: [ValueSpec.Member] = []
            for item in items {
                guard let itemMembers = item.members else {
                    fail(item.location, keyPath, "<< merges mappings, found \(item.kindName)")
                    continue
                }
                members += itemMembers
            }
            return members
        default:
            fail(value.location, keyPath, "<< merges a mapping or a list of mappings, found \(value.kindName)")
            return []
        }
    }

    private mutating func scalarKind(_ scalar: Node.Scalar, keyPath: String, location: SourceLocation) -> ValueSpec.Kind
    {
        var text = scalar.string
        let hasReference = text.utf8.contains(UInt8(ascii: "$"))
        if hasReference {
            switch EnvironmentSubstitution.expand(text, environment: environment) {
            case .success(let expanded):
                text = expanded
            case .failure(let failure):
                fail(location, keyPath, failure.message)
                return .string(text)
            }
        }
        let tag = scalar.tag.rawValue
        if tag == Tag.Name.implicit.rawValue {
            // Only plain scalars are typed; a substituted value stays the text it came to.
            guard scalar.style == .plain, !(hasReference && text != scalar.string) else { return .string(text) }
            return YAMLCoreSchema.kind(ofPlain: text)
        }
        // An explicit tag (`!!int "7"`): honour it when the text fits, else keep the text.
        let typed = YAMLCoreSchema.kind(ofPlain: text)
        switch (tag, typed) {
        case (Tag.Name.int.rawValue, .int), (Tag.Name.bool.rawValue, .bool), (Tag.Name.null.rawValue, .null),
            (Tag.Name.float.rawValue, .double):
            return typed
        case (Tag.Name.float.rawValue, .int(let number)):
            return .double(Double(number))
        default:
            return .string(text)
        }
    }

    private func location(of node: Node) -> SourceLocation {
        guard let mark = node.mark else { return SourceLocation(file: file, line: 1) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    private mutating func fail(_ location: SourceLocation, _ keyPath: String, _ message: String) {
        errors.append(ConfigError(at: location, keyPath: keyPath.isEmpty ? nil : keyPath, message: message))
    }
}

/// YAML 1.2's core schema for plain scalars: which text is null, a bool, an int or a float.
enum YAMLCoreSchema {
    static func kind(ofPlain text: String) -> ValueSpec.Kind {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        let bytes = Array(text.utf8)
        if let number = integer(bytes) {
            return .int(number)
        }
        if isDecimalInteger(bytes) || isFloat(bytes), let number = Double(text) {
            // An integer too large for Int64 is still a number.
            return .double(number)
        }
        return .string(text)
    }

    /// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`, when it fits an Int64.
    private static func integer(_ bytes: [UInt8]) -> Int64? {
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
            let digits = String(decoding: bytes[2...], as: UTF8.self)
            if bytes[1] == UInt8(ascii: "o") { return Int64(digits, radix: 8) }
            if bytes[1] == UInt8(ascii: "x") { return Int64(digits, radix: 16) }
        }
        guard isDecimalInteger(bytes) else { return nil }
        return Int64(String(decoding: bytes, as: UTF8.self))
    }

    private static func isDecimalInteger(_ bytes: [UInt8]) -> Bool {
        var digits = bytes[...]
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            digits = digits.dropFirst()
        }
        return !digits.isEmpty && digits.allSatisfy(isDigit)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    private static func isFloat(_ bytes: [UInt8]) -> Bool {
        var index = 0
        func skipDigits() -> Int {
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        var mantissaDigits = skipDigits()
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            mantissaDigits += skipDigits()
        }
        guard mantissaDigits > 0 else { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                index += 1
            }
            guard skipDigits() > 0 else { return false }
        }
        return index == bytes.count
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

/// Turns Yams' errors into config errors at the line Yams reports.
private enum YAMLSyntaxProblem {
    static func errors(for error: YamlError, text: String, file: String) -> [ConfigError] {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line))"
            }
            return [ConfigError(file: file, line: mark.line, keyPath: nil, message: message)]
        case .reader(let problem, let offset, _, _):
            let line = offset.map { lineNumber(atCharacterOffset: $0, in: text) } ?? 1
            return [ConfigError(file: file, line: line, keyPath: nil, message: "invalid YAML: \(problem)")]
        case .duplicatedKeysInMapping(let duplicates, let context):
            return duplicates.map { key in duplicateKeyError(key, first: context.mark, text: text, file: file) }
        default:
            return [ConfigError(file: file, line: 1, keyPath: nil, message: "invalid YAML: \(error)")]
        }
    }

    /// Yams names the first occurrence; the error points at the second, found as the next
    /// line of the same block mapping (same indentation) that starts with the key.
    private static func duplicateKeyError(_ key: String, first: Mark, text: String, file: String) -> ConfigError {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let indent = first.column - 1
        var lineIndex = first.line  // 0-based index of the line after the first occurrence
        while lineIndex < lines.count {
            let line = lines[lineIndex]
            let content = line.drop { $0 == " " }
            let leading = line.count - content.count
            lineIndex += 1
            if content.isEmpty || content.hasPrefix("#") { continue }
            if leading < indent { break }
            guard leading == indent else { continue }
            for spelling in [key, "\"\(key)\"", "'\(key)'"] where content.hasPrefix(spelling) {
                if content.dropFirst(spelling.count).drop(while: { $0 == " " }).hasPrefix(":") {
                    return ConfigError(
                        file: file,
                        line: lineIndex,
                        keyPath: nil,
                        message: "duplicate key \"\(key)\" (first written at line \(first.line))"
                    )
                }
            }
        }
        return ConfigError(file: file, line: first.line, keyPath: nil, message: "duplicate key \"\(key)\"")
    }

    private static func lineNumber(atCharacterOffset offset: Int, in text: String) -> Int {
        1 + text.prefix(offset).reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
    }
}
