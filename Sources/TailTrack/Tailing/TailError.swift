import Glibc

/// A failure while following a file: which file, what the tailer was doing, and why.
public struct TailError: Error, Sendable, CustomStringConvertible {
    /// The file concerned.
    public var path: String
    /// What was being done, e.g. `open`, `read`, `decompress`.
    public var operation: String
    /// The `errno` value, when the cause is a system call.
    public var errno: Int32?
    /// A cause that is not an `errno` (a zlib message, a corrupt stream).
    public var detail: String?

    public init(path: String, operation: String, errno: Int32? = nil, detail: String? = nil) {
        self.path = path
        self.operation = operation
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        var cause = detail ?? ""
        if let errno {
            cause = String(cString: strerror(errno)) + " (errno \(errno))"
        }
        return "could not \(operation) \(path): \(cause)"
    }
}
