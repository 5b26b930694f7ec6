/// Reads `rules:` lists, replacing each `- include: GLOB` item by the rules of the files it
/// matches (sorted), so that the rule compiler sees one flat list with every rule's own file
/// and line.
///
/// A rules file is either a list of rules or a mapping with a `rules:` list; it may include
/// further files, relative to its own directory. An include of one path that does not exist
/// is an error; a wildcard that matches nothing is not (an empty `rules.d/` is fine).
struct RuleListExpander {
    /// How deep includes may nest before a cycle is assumed.
    static let maximumDepth = 8

    let environment: [String: String]
    var reader = ConfigValueReader()

    init(environment: [String: String]) {
        self.environment = environment
    }

    /// The rules of a `rules:` list written in a file in `directory`.
    mutating func rules(from list: ValueSpec, keyPath: String, directory: String, depth: Int) -> [ValueSpec] {
        guard let items = reader.list(list, at: keyPath) else { return [] }
        var rules: [ValueSpec] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(keyPath)[\(index)]"
            guard item.members != nil else {
                reader.fail(
                    item.location, itemPath, "expected a mapping (a rule, or include: GLOB), found \(item.kindName)")
                continue
            }
            guard item["include"] != nil else {
                rules.append(item)
                continue
            }
            rules += included(by: item, keyPath: itemPath, directory: directory, depth: depth)
        }
        return rules
    }

    /// The rules of the file at `path`; `include` is the `include:` value that named it, for
    /// errors (`nil` for a file named on the command line).
    mutating func rules(fromFile path: String, include: (location: SourceLocation, keyPath: String)?, depth: Int)
        -> [ValueSpec]
    {
        let text: String
        switch ConfigFile.read(path) {
        case .success(let content):
            text = content
        case .failure(let failure):
            if let include {
                reader.fail(include.location, include.keyPath, "cannot read \(path): \(failure.reason)")
            } else {
                reader.append(
                    ConfigError(
                        file: path, line: nil, keyPath: nil, message: "cannot read the rules file: \(failure.reason)"))
            }
            return []
        }
        let document = YAMLDocument.parse(text, file: path, environment: environment, rootListName: "rules")
        for error in document.errors { reader.append(error) }
        let directory = ConfigFile.directory(of: path)
        let root = document.root
        switch root.kind {
        case .null:
            return []
        case .array:
            return rules(from: root, keyPath: "rules", directory: directory, depth: depth)
        case .object:
            guard let section = reader.section(root, at: "", allowed: ["rules"]), let list = section.value("rules")
            else {
                return []
            }
            return rules(from: list, keyPath: "rules", directory: directory, depth: depth)
        default:
            reader.fail(
                root.location, nil, "expected a list of rules or a mapping with a rules: list, found \(root.kindName)")
            return []
        }
    }

    private mutating func included(by item: ValueSpec, keyPath: String, directory: String, depth: Int) -> [ValueSpec] {
        guard let section = reader.section(item, at: keyPath, allowed: ["include"]),
            let member = section.members["include"]
        else { return [] }
        guard section.value("include") != nil else {
            reader.fail(member.value.location, section.path("include"), "expected a path or glob of rules files")
            return []
        }
        guard let pattern = reader.string(section, "include") else { return [] }
        guard !pattern.isEmpty else {
            reader.fail(member.value.location, section.path("include"), "must not be empty")
            return []
        }
        let include = (location: member.value.location, keyPath: section.path("include"))
        guard depth < Self.maximumDepth else {
            reader.fail(
                include.location,
                include.keyPath,
                "includes nest more than \(Self.maximumDepth) deep (does a file include itself?)"
            )
            return []
        }
        let resolved = ConfigFile.resolve(pattern, against: directory)
        let files = ConfigFile.hasWildcard(resolved) ? ConfigFile.glob(resolved) : [resolved]
        var rules: [ValueSpec] = []
        for file in files {
            rules += self.rules(fromFile: file, include: include, depth: depth + 1)
        }
        return rules
    }
}
