import Glibc

/// A Unix datagram socket a test binds and reads systemd notify messages from, as systemd would.
final class NotifySocketReceiver {
    /// The `NOTIFY_SOCKET` value: the path, or `@name` for the abstract namespace.
    let address: String
    private let fd: Int32

    enum Failure: Error {
        case socket(Int32)
    }

    /// Binds `address` (a path, or `@name` for the abstract namespace).
    init(address: String) throws {
        self.address = address
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure.socket(errno) }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2) + socklen_t(bytes.count)
        let result = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else {
            close(fd)
            throw Failure.socket(errno)
        }
    }

    deinit {
        close(fd)
        if !address.hasPrefix("@") { unlink(address) }
    }

    /// The next message, waiting up to `timeout` (polling, so no thread blocks for long).
    func next(timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let message = receiveNow() { return message }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return receiveNow()
    }

    /// Messages until one satisfies `stop` (included), or until `timeout`.
    func collect(until stop: (String) -> Bool, timeout: Duration) async -> [String] {
        let deadline = ContinuousClock.now + timeout
        var messages: [String] = []
        while ContinuousClock.now < deadline {
            guard let message = await next(timeout: deadline - ContinuousClock.now) else { break }
            messages.append(message)
            if stop(message) { break }
        }
        return messages
    }

    private func receiveNow() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}
