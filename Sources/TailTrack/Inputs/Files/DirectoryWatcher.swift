import Glibc
import Logging
import Synchronization

/// Wakes the tailer as soon as something changes in the directories its globs point into,
/// using inotify.
///
/// Without it, a line appended to a followed file waits up to one poll interval. With it, the
/// tailer sleeps until the kernel says a watched directory changed (a write, a create, a
/// rename, a delete), so latency drops to the time of one read and an idle agent does no work
/// between polls. When inotify cannot be used — not Linux, `inotify: false`, the per-user
/// watch limit (`fs.inotify.max_user_watches`) reached, a directory that does not exist yet —
/// the tailer simply polls; this is logged once. While the watcher covers every directory
/// (``coversEverything``), the tailer's safety-net scan runs rarely; otherwise on
/// `tail.poll_interval`.
final class DirectoryWatcher: Sendable {
    private let inotifyDescriptor: Int32
    private let wakeDescriptor: Int32
    private let stopped = Atomic<Bool>(false)
    private let thread: WatcherThread
    /// The directories actually watched.
    let watchedDirectories: [String]
    /// True when every pattern's directory is watched and no pattern has a wildcard above its
    /// file name (inotify does not see into subdirectories).
    private let watchesAllDirectories: Bool

    /// How long the watcher lets events gather after the first one before it hands them over:
    /// at most ~50 hand-overs (and tailer steps) a second however many files are written, a
    /// line delayed by at most this much (little next to the batch flush interval), and far
    /// inside the time the kernel's queue (16,384 events by default; an overflow asks for a
    /// scan) takes to fill.
    static let gatherMilliseconds: Int32 = 20

    /// Watches the directories of `patterns` (the longest leading part of each glob that has
    /// no wildcard) and calls `onChange` (on the watcher's own thread) once the events of a
    /// burst have gathered (`gatherMilliseconds` after the first); `nil` when inotify is
    /// unavailable or no directory could be watched.
    init?(
        patterns: [String], logger: Logger, gatherMilliseconds: Int32 = DirectoryWatcher.gatherMilliseconds,
        onChange: @escaping @Sendable (DirectoryChange) -> Void
    ) {
        let directories = Set(patterns.map(Self.directory(ofGlob:))).sorted()
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else {
            logger.notice(
                "inotify is not available; following files by polling",
                metadata: ["error": "\(String(cString: strerror(errno)))"])
            return nil
        }
        let mask = UInt32(
            IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB
                | IN_DELETE_SELF | IN_MOVE_SELF)
        var watched: [String] = []
        var directoryByWatch: [Int32: String] = [:]
        for directory in directories {
            let watch = inotify_add_watch(descriptor, directory, mask)
            if watch >= 0 {
                watched.append(directory)
                directoryByWatch[watch] = directory
            } else {
                let reason =
                    errno == ENOSPC
                    ? "the inotify watch limit is reached (fs.inotify.max_user_watches)"
                    : String(cString: strerror(errno))
                logger.notice(
                    "Cannot watch a directory with inotify; it is polled instead",
                    metadata: ["file.path": "\(directory)", "error": "\(reason)"])
            }
        }
        guard !watched.isEmpty else {
            close(descriptor)
            return nil
        }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            close(descriptor)
            return nil
        }
        for end in pipeEnds {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
        }
        inotifyDescriptor = descriptor
        wakeDescriptor = pipeEnds[1]
        watchedDirectories = watched
        watchesAllDirectories =
            watched.count == directories.count
            && !patterns.contains { pattern in
                pattern.split(separator: "/").dropLast().contains { $0.contains { "*?[".contains($0) } }
            }
        thread = WatcherThread(
            inotify: descriptor, wake: pipeEnds[0], directories: directoryByWatch, gather: gatherMilliseconds,
            onChange: onChange)
        thread.start()
    }

    /// True while inotify sees every change the tailer cares about: all directories watched, no
    /// wildcard directories, and no watched directory removed or moved since.
    var coversEverything: Bool {
        watchesAllDirectories && !thread.lostAWatch.load(ordering: .relaxed)
    }

    deinit {
        stop()
        close(inotifyDescriptor)
    }

    /// Stops the watching thread.
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        var one: UInt8 = 1
        _ = write(wakeDescriptor, &one, 1)
        close(wakeDescriptor)
    }

    /// `/var/log/app/*.log` → `/var/log/app`; `/var/log/*/x.log` → `/var/log`.
    static func directory(ofGlob pattern: String) -> String {
        var parts = pattern.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        if let wildcard = parts.firstIndex(where: { $0.contains { "*?[".contains($0) } }) {
            parts.removeSubrange(wildcard...)
        }
        let directory = parts.joined(separator: "/")
        return directory.isEmpty ? "/" : directory
    }
}

/// The thread that blocks in `poll` on the inotify descriptor and signals the tailer.
private final class WatcherThread: Sendable {
    let inotify: Int32
    let wake: Int32
    let directories: [Int32: String]
    let gather: Int32
    let onChange: @Sendable (DirectoryChange) -> Void
    /// Set once a watched directory was deleted or moved (its watch is gone).
    let lostAWatch = Atomic<Bool>(false)

    init(
        inotify: Int32, wake: Int32, directories: [Int32: String], gather: Int32,
        onChange: @escaping @Sendable (DirectoryChange) -> Void
    ) {
        self.inotify = inotify
        self.wake = wake
        self.directories = directories
        self.gather = gather
        self.onChange = onChange
    }

    func start() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { argument in
                guard let argument else { return nil }
                let watcher = Unmanaged<WatcherThread>.fromOpaque(argument).takeRetainedValue()
                watcher.loop()
                return nil
            }, box.toOpaque())
        if result == 0 {
            pthread_detach(thread)
        } else {
            box.release()
        }
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var descriptors = [
            pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if descriptors[1].revents != 0 { break }
            if descriptors[0].revents != 0 {
                // Writes to many files come as a stream of events: letting them gather in the
                // kernel's queue for a moment makes one wake-up, one hand-over and one step of
                // the tailer cover them all, instead of one per write. The stop pipe still ends
                // the wait at once.
                if poll(&descriptors[1], 1, gather) > 0 { break }
                // Drain every pending event: one hand-over covers them all.
                var change = DirectoryChange()
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
                    guard count > 0 else { break }
                    collect(buffer, count: count, into: &change)
                }
                onChange(change)
            }
        }
        close(wake)
    }

    /// Folds the events in `buffer` into `change`: writes to a file name it; anything else
    /// (a create, rename, delete, attribute change, overflow) asks for a full scan. A watch
    /// removed (`IN_IGNORED`) or its directory deleted or moved also marks the watcher as no
    /// longer covering everything.
    private func collect(_ buffer: [UInt8], count: Int, into change: inout DirectoryChange) {
        let headerSize = MemoryLayout<inotify_event>.size
        let lost = UInt32(IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)
        let writes = UInt32(IN_MODIFY | IN_CLOSE_WRITE)
        buffer.withUnsafeBytes { raw in
            var position = 0
            // The event before, when it named a written file: a file written several times in
            // a row (or written and closed) gives one path, built once.
            var previous: (watch: Int32, name: Range<Int>)?
            while position + headerSize <= count {
                let watch = raw.loadUnaligned(fromByteOffset: position, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self)
                let nameLength = Int(raw.loadUnaligned(fromByteOffset: position + 12, as: UInt32.self))
                let nameStart = position + headerSize
                position = nameStart + nameLength
                if mask & lost != 0 { lostAWatch.store(true, ordering: .relaxed) }
                guard mask & ~writes == 0, nameLength > 0, position <= count, let directory = directories[watch],
                    change.modified.count < DirectoryChange.maximumNamed
                else {
                    change.needsScan = true
                    previous = nil
                    continue
                }
                let name = raw[nameStart..<position].prefix { $0 != 0 }
                let nameRange = name.startIndex..<name.endIndex
                if let previous, previous.watch == watch,
                    raw[previous.name].elementsEqual(raw[nameRange])
                {
                    continue
                }
                previous = (watch, nameRange)
                change.modified.insert(Self.path(directory, UnsafeRawBufferPointer(rebasing: name)))
            }
        }
    }
}

extension WatcherThread {
    /// `directory/name` as one string, built with one allocation.
    fileprivate static func path(_ directory: String, _ name: UnsafeRawBufferPointer) -> String {
        var directory = directory
        return directory.withUTF8 { head in
            String(unsafeUninitializedCapacity: head.count + 1 + name.count) { output in
                _ = output.initialize(from: head)
                output[head.count] = UInt8(ascii: "/")
                if let source = name.baseAddress, let start = output.baseAddress {
                    UnsafeMutableRawPointer(start + head.count + 1).copyMemory(from: source, byteCount: name.count)
                }
                return head.count + 1 + name.count
            }
        }
    }
}

/// What changed in the watched directories since the last wake-up.
struct DirectoryChange: Sendable {
    /// Most written files named one by one; past it, a full scan is cheaper.
    static let maximumNamed = 512

    /// Files written to (full paths).
    var modified = Set<String>()
    /// True when something other than writes happened: globs must be re-expanded.
    var needsScan = false
}
