/// Where a value was written: a config or rules file, and a line and column in it (1-based).
///
/// Every config and rule error carries one, so that a message points at the line to fix.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `path:line`, the way compilers point at a line.
    public var description: String { "\(file):\(line)" }
}
