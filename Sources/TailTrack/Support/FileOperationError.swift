import Glibc

/// A failed operation on a file or directory: which path, what was being done, and why.
///
/// Every stage that touches the filesystem (reading followed files, saving positions, writing
/// dead letters or the file output) throws this one type, so a user reads the same sentence
/// whatever failed: `could not write /var/lib/tailtrack/positions.json: No space left on
/// device (errno 28)`.
public struct FileOperationError: Error, Sendable, CustomStringConvertible {
    /// The file or directory concerned.
    public var path: String
    /// What was being done, e.g. `open`, `read`, `decompress`, `create the state directory`.
    public var operation: String
    /// The `errno` value, when the cause is a system call.
    public var errno: Int32?
    /// A cause that is not an `errno` (a zlib message, a corrupt stream, a format problem).
    public var detail: String?

    public init(path: String, operation: String, errno: Int32? = nil, detail: String? = nil) {
        self.path = path
        self.operation = operation
        self.errno = errno
        self.detail = detail
    }

    /// The error for the system call that just failed: reads the thread's current `errno`.
    public static func current(path: String, operation: String) -> FileOperationError {
        FileOperationError(path: path, operation: operation, errno: Glibc.errno)
    }

    public var description: String {
        var cause = detail ?? ""
        if let errno {
            cause = String(cString: strerror(errno)) + " (errno \(errno))"
        }
        return "could not \(operation) \(path): \(cause)"
    }
}
