/// Resolves the field names a rule's templates and conditions use, for the rule's matcher.
///
/// Names are checked when the rule is compiled, so that a template naming a group the regex
/// does not have is an error `check` reports, not a value missing from every line.
struct FieldResolver {
    var matcher: LineMatcher?

    func resolve(_ name: String) throws(TemplateSyntaxError) -> FieldReference {
        switch name {
        case "_line": return .line
        case "_path": return .filePath
        case "_source": return .source
        default: break
        }
        if LineFields.prefixes.contains(where: { name.hasPrefix($0) }) { return .input(name) }
        switch matcher {
        case .regex(let regex)?:
            if let number = regex.groupNumbers[name] { return .group(number, name: name) }
            let groups = regex.groupNumbers.keys.sorted()
            let hint = KeySuggestion.closest(to: name, among: groups).map { " (did you mean \"\($0)\"?)" } ?? ""
            let known = groups.isEmpty ? "it has no named groups" : "its groups are \(groups.joined(separator: ", "))"
            throw TemplateSyntaxError(message: "the regex has no group named \"\(name)\"\(hint); \(known)")
        case .json?, .logfmt?, nil:
            return .path(name)
        }
    }
}
