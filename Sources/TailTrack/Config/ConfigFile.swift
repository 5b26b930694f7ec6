#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// File-system helpers for the config loader: reading a whole file with the errno text on
/// failure, expanding globs, and resolving relative paths against the config's directory.
enum ConfigFile {
    /// Why a file could not be read: the system's words for the errno (`No such file or directory`).
    struct ReadFailure: Error {
        var reason: String
    }

    /// The whole content of `path` as UTF-8 (invalid sequences replaced).
    static func read(_ path: String) -> Result<String, ReadFailure> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(ReadFailure(reason: errnoText())) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { posixRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadFailure(reason: errnoText()))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// The paths matching `pattern`, sorted bytewise so that the order does not depend on the locale.
    static func glob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard posixGlob(pattern, &matches) == 0 else { return [] }
        var paths: [String] = []
        for index in 0..<Int(matches.gl_pathc) {
            if let path = matches.gl_pathv[index] {
                paths.append(String(cString: path))
            }
        }
        return paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Whether `pattern` has a glob wildcard (`*`, `?`, `[`) rather than naming one path.
    static func hasWildcard(_ pattern: String) -> Bool {
        pattern.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// The absolute directory holding `path` (the current directory for a bare file name).
    static func directory(of path: String) -> String {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        return resolve(directory, against: currentDirectory())
    }

    /// `path` itself when absolute, else `path` under `directory`; `.` and `..` segments are
    /// resolved lexically so that messages show `/etc/tailtrack/rules/a.yml`, not `…/conf/../rules/a.yml`.
    static func resolve(_ path: String, against directory: String) -> String {
        let full = path.hasPrefix("/") ? path : directory + "/" + path
        var parts: [Substring] = []
        for part in full.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// `path` made absolute against the working directory, `.` and `..` resolved.
    static func absolute(_ path: String) -> String {
        resolve(path, against: currentDirectory())
    }

    private static func currentDirectory() -> String {
        guard let pointer = getcwd(nil, 0) else { return "/" }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

/// `glob(3)` with no flags and no error callback (a free function: `ConfigFile.glob` hides the name).
private func posixGlob(_ pattern: String, _ matches: inout glob_t) -> Int32 {
    glob(pattern, 0, nil, &matches)
}

/// `read(2)` (a free function: `ConfigFile.read` hides the name).
private func posixRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
