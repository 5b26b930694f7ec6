/// A failure of the position store: which file, what was being done, and why.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
    /// The state file or directory concerned.
    public var path: String
    /// What was being done, e.g. `write`, `rename`, `create the state directory`.
    public var operation: String
    /// Why it failed, in words (an `errno` text or a format problem).
    public var cause: String

    public init(path: String, operation: String, cause: String) {
        self.path = path
        self.operation = operation
        self.cause = cause
    }

    public var description: String {
        "could not \(operation) \(path): \(cause)"
    }
}
