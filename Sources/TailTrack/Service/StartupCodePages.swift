import Glibc

/// Gives back the pages of program code that only starting up used: the config parser, the
/// command line, the runtime's first type lookups, the HTTP client's set-up; and, once a
/// minute after that, code the agent ran once and no longer runs.
///
/// The kernel maps a file's code into a process 64 KiB around each page it runs, and keeps
/// it mapped: a freshly started agent has ~25 MB of code resident (`RssFile`), most of
/// which the pipeline never runs again. `madvise(MADV_DONTNEED)` on the executable,
/// file-backed, private mappings unmaps those pages; what the pipeline still runs comes
/// back on its next use as a minor fault from the page cache (no disk read, no copy).
///
/// The agent releases them at each step of starting up, so that no two steps' code is
/// resident together: first thing in `main` (what loading the libraries touched), after the
/// command line is parsed, after the config is read, after the agent is set up, before the
/// first scan, once the sources are open (before the first read), then at READY, a second
/// later, every ``interval``, and when stopping begins.
///
/// Only `r-xp` mappings of files are touched: code is never written, so nothing can be
/// lost. Writable data, relocated read-only data (RELRO), anonymous memory and the regex
/// JIT's code (anonymous or memfd) are left alone.
public enum StartupCodePages {
    /// How often a running agent gives back its code pages again: what it no longer runs (a
    /// burst's catch-up, a reload) leaves; what it still runs comes back as minor faults
    /// (~14 MB of it while reading at full speed, a few hundred faults with fault-around).
    public static let interval: Duration = .seconds(60)

    /// One code mapping of the process.
    struct Mapping: Equatable {
        var start: UInt
        var end: UInt
        var path: String
    }

    /// Unmaps the resident code pages of every file-backed code mapping; returns how many
    /// mappings were released (0 when `/proc/self/maps` cannot be read).
    @discardableResult
    public static func release() -> Int {
        guard case .success(let maps) = ConfigFile.read("/proc/self/maps") else { return 0 }
        var released = 0
        for mapping in codeMappings(in: maps) {
            guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            if madvise(address, Int(mapping.end - mapping.start), MADV_DONTNEED) == 0 { released += 1 }
        }
        return released
    }

    /// The file-backed, private, executable and not writable mappings in `maps` (the text of
    /// `/proc/self/maps`).
    static func codeMappings(in maps: String) -> [Mapping] {
        var found: [Mapping] = []
        for line in maps.split(separator: "\n") {
            // start-end perms offset dev inode path
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[1] == "r-xp" else { continue }
            let path = fields[5].trimmingPrefix(while: { $0 == " " })
            guard path.hasPrefix("/"), !path.hasSuffix("(deleted)"), !path.hasPrefix("/memfd:") else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                end > start
            else { continue }
            found.append(Mapping(start: start, end: end, path: String(path)))
        }
        return found
    }

}
