import Glibc

/// Speaks systemd's notify protocol (`sd_notify(3)`) directly: one datagram per message to the
/// Unix socket named by `$NOTIFY_SOCKET`, without libsystemd.
///
/// A path starting with `@` is in the abstract namespace (the `@` becomes a NUL byte). With no
/// `$NOTIFY_SOCKET` (not started by systemd as `Type=notify`) every call does nothing, so the
/// agent runs the same from a terminal.
public struct SystemdNotifier: Sendable {
    /// The socket path as given in `$NOTIFY_SOCKET`; `nil` when notifications are off.
    public let socketPath: String?
    /// Half of `$WATCHDOG_USEC` when systemd expects keep-alive pings from this process; the
    /// interval at which `WATCHDOG=1` is sent.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        let forThisProcess = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if path != nil, forThisProcess, let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 {
            watchdogInterval = .microseconds(usec / 2)
        } else {
            watchdogInterval = nil
        }
    }

    /// Whether messages are sent at all.
    public var isEnabled: Bool { socketPath != nil }

    /// Sends `state` (such as `READY=1` or `STATUS=…`; several assignments separated by
    /// newlines). Returns `false` when notifications are off or the send failed: systemd
    /// notifications are advisory and never stop the agent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity || (pathBytes.first == 0 && pathBytes.count <= capacity) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2) + socklen_t(pathBytes.count)
        let sent = state.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(fd, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        return sent == state.utf8.count
    }

    /// `READY=1`: the sources are open and the pipeline runs.
    public func ready(status: String? = nil) {
        notify(status.map { "READY=1\nSTATUS=\(Self.oneLine($0))" } ?? "READY=1")
    }

    /// `RELOADING=1` with the `CLOCK_MONOTONIC` time in µs that systemd requires of
    /// `Type=notify-reload` services (and accepts from `Type=notify` ones).
    public func reloading() {
        notify("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())")
    }

    /// `STOPPING=1`: graceful shutdown began.
    public func stopping() {
        notify("STOPPING=1")
    }

    /// `STATUS=…`: the line `systemctl status` shows.
    public func status(_ text: String) {
        notify("STATUS=\(Self.oneLine(text))")
    }

    /// `WATCHDOG=1`: the keep-alive ping.
    public func watchdog() {
        notify("WATCHDOG=1")
    }

    /// `CLOCK_MONOTONIC` now, in microseconds.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
