// STUB: owned by the delivery helper; replaced with the real Track v2 test server.

/// A Track v2 server on 127.0.0.1 for tests: checks requests like the real one, records what
/// it accepted, and injects faults on demand.
public final class TrackTestServer: Sendable {
    public init() {}
}
