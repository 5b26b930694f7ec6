/// A problem with the configuration: which file, which line, which key, and what is wrong.
///
/// `description` reads as one line a user can act on:
/// `/etc/tailtrack/tailtrack.yml:7: batch.max_bytes: 900000 is above Track's limit of 500000 bytes`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based line, when known.
    public var line: Int?
    /// The dotted key path (`sources[0].start_at`), when the problem belongs to a key.
    public var keyPath: String?
    public var message: String

    public init(file: String, line: Int?, keyPath: String?, message: String) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
    }

    public init(at location: SourceLocation, keyPath: String?, message: String) {
        self.init(file: location.file, line: location.line, keyPath: keyPath, message: message)
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let keyPath { text += "\(keyPath): " }
        return text + message
    }
}

/// Every problem found in a configuration at once, so that `check` can print them all.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
