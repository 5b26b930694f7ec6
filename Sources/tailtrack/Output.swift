import Glibc

/// Writes to standard output and standard error: the executable's only place that prints.
enum Output {
    static func out(_ text: String) {
        write(text + "\n", to: STDOUT_FILENO)
    }

    static func err(_ text: String) {
        write(text + "\n", to: STDERR_FILENO)
    }

    static func write(_ text: String, to fd: Int32) {
        var copy = text
        copy.withUTF8 { writeAll($0, to: fd) }
    }

    static func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to fd: Int32) {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Glibc.write(fd, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            base += written
            remaining -= written
        }
    }
}

/// Buffers standard output: dry-run may print millions of lines.
struct BufferedStandardOutput {
    private var buffer: [UInt8] = []

    init() {
        buffer.reserveCapacity(1 << 16)
    }

    mutating func write(_ bytes: [UInt8]) {
        buffer += bytes
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        buffer.withUnsafeBufferPointer { Output.writeAll($0, to: STDOUT_FILENO) }
        buffer.removeAll(keepingCapacity: true)
    }
}
