/// `${VAR}` expansion in config strings.
///
/// - `${VAR}` is the variable's value; an unset variable is an error naming it.
/// - `${VAR:-default}` is the default when the variable is unset or empty.
/// - `$$` is a literal `$`; a `$` not followed by `{` or `$` stays as written.
enum EnvironmentSubstitution {
    /// Why a string could not be expanded; `message` reads after the key path.
    struct Failure: Error, Equatable {
        var message: String
    }

    /// `text` with every reference replaced from `environment`.
    static func expand(_ text: String, environment: [String: String]) -> Result<String, Failure> {
        guard text.utf8.contains(UInt8(ascii: "$")) else { return .success(text) }
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let afterDollar = rest.index(after: dollar)
            guard afterDollar < rest.endIndex else {
                result += "$"
                rest = rest[afterDollar...]
                break
            }
            switch rest[afterDollar] {
            case "$":
                result += "$"
                rest = rest[rest.index(after: afterDollar)...]
            case "{":
                let bodyStart = rest.index(after: afterDollar)
                guard let close = rest[bodyStart...].firstIndex(of: "}") else {
                    return .failure(Failure(message: "unterminated \"${\" (write \"$$\" for a literal \"$\")"))
                }
                switch value(of: rest[bodyStart..<close], environment: environment) {
                case .success(let value): result += value
                case .failure(let failure): return .failure(failure)
                }
                rest = rest[rest.index(after: close)...]
            default:
                result += "$"
                rest = rest[afterDollar...]
            }
        }
        result += rest
        return .success(result)
    }

    /// The value of one `VAR` or `VAR:-default` body.
    private static func value(of body: Substring, environment: [String: String]) -> Result<String, Failure> {
        var name = body
        var fallback: Substring?
        if let colon = body.firstIndex(of: ":"), body[body.index(after: colon)...].first == "-" {
            name = body[..<colon]
            fallback = body[body.index(colon, offsetBy: 2)...]
        }
        guard isVariableName(name) else {
            // The text is not echoed: it may be part of a credential.
            return .failure(Failure(message: "\"${\" is not followed by a variable name (letters, digits and _)"))
        }
        let value = environment[String(name)]
        if let fallback {
            if let value, !value.isEmpty { return .success(value) }
            return .success(String(fallback))
        }
        guard let value else {
            return .failure(Failure(message: "environment variable \(name) is not set"))
        }
        return .success(value)
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`.
    private static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return name.utf8.allSatisfy {
            $0 == UInt8(ascii: "_") || isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}
