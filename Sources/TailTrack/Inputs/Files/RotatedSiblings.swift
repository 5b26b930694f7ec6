import Foundation
import Glibc

/// The rotated copies of a followed file: its path plus a rotation suffix, as logrotate and
/// most applications name them — `.N`, `.N.gz`, `-DATE`, `-DATE.gz`, `.gz`.
///
/// They matter twice: a glob like `app.log*` must not follow them as new live files (their
/// lines would be read twice), and after a restart or with `backfill_rotated` they are where
/// the rest of a file is found, oldest first.
enum RotatedSiblings {
    /// How old a sibling is: smaller sorts older. Numbered siblings are older the higher the
    /// number; dated ones the earlier the date.
    struct Age: Comparable, Hashable {
        var group: Int
        var value: Int64
        static func < (lhs: Age, rhs: Age) -> Bool { (lhs.group, lhs.value) < (rhs.group, rhs.value) }
        /// The live file itself: newer than every sibling.
        static let live = Age(group: 2, value: 0)
    }

    /// The age of `candidate` as a rotated sibling of `base`, or `nil` when it is not one.
    static func age(of candidate: String, base: String) -> Age? {
        guard candidate.count > base.count, candidate.hasPrefix(base) else { return nil }
        var suffix = candidate.dropFirst(base.count)
        if suffix.hasSuffix(".gz") { suffix = suffix.dropLast(3) }
        if suffix.isEmpty { return Age(group: 1, value: -1) }  // app.log.gz
        guard let first = suffix.first, first == "." || first == "-" else { return nil }
        let digits = suffix.dropFirst()
        guard !digits.isEmpty, digits.count <= 14, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let number = Int64(digits)
        else { return nil }
        if first == "." && digits.count < 6 { return Age(group: 1, value: -number) }
        return Age(group: 0, value: number)
    }

    /// The followed path that `path` is a rotated sibling of (`app.log.2.gz` → `app.log`,
    /// `app.log-20261123` → `app.log`), or `nil` when it does not look rotated.
    static func base(of path: String) -> String? {
        candidateBases(of: path).first
    }

    /// Every path that `path` is a rotated sibling of (at most two: `a.1.gz` is a sibling of
    /// `a` and of `a.1`), most likely first.
    static func candidateBases(of path: String) -> [String] {
        // A rotated name ends in digits or `.gz`; most paths (`app.log`) end in neither and
        // cost no string work here (a scan asks this of every matched path).
        let bytes = path.utf8
        if !bytes.reversed().starts(with: "zg.".utf8) {
            guard let last = bytes.last, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(last) else { return [] }
        }
        var result: [String] = []
        var stem = Substring(path)
        if stem.hasSuffix(".gz") { stem = stem.dropLast(3) }
        if let separator = stem.lastIndex(where: { $0 == "." || $0 == "-" }) {
            let base = String(stem[..<separator])
            if !base.isEmpty, age(of: path, base: base) != nil { result.append(base) }
        }
        if path.hasSuffix(".gz") {
            let base = String(path.dropLast(3))
            if age(of: path, base: base) != nil { result.append(base) }
        }
        return result
    }

    /// The rotated siblings of `base` that exist now, oldest first: next to it, and in
    /// `rotatedDirectory` (logrotate's `olddir`; relative to `base`'s directory) when given.
    static func list(of base: String, rotatedDirectory: String? = nil) -> [(path: String, age: Age)] {
        var index = SiblingIndex()
        return index.list(of: base, rotatedDirectory: rotatedDirectory)
    }
}

/// The rotated siblings of every file in the directories listed so far, by base name: one
/// directory listing serves every followed file in it (a scan of 10,000 files in one
/// directory lists it once, not 10,000 times).
struct SiblingIndex {
    private var byDirectory: [String: [String: [(name: String, age: RotatedSiblings.Age)]]] = [:]

    /// The rotated siblings of `base` that exist (as of this index's listings), oldest first:
    /// next to it, and in `rotatedDirectory` when given.
    /// With `fresh`, the directories are listed again first (a rotation was just seen).
    mutating func list(
        of base: String, rotatedDirectory: String? = nil, fresh: Bool = false
    ) -> [(path: String, age: RotatedSiblings.Age)] {
        let directory = (base as NSString).deletingLastPathComponent
        let name = (base as NSString).lastPathComponent
        var directories = [directory.isEmpty ? "." : directory]
        if let rotatedDirectory, !rotatedDirectory.isEmpty {
            let joined = rotatedDirectory.hasPrefix("/") ? rotatedDirectory : directories[0] + "/" + rotatedDirectory
            directories.append((joined as NSString).standardizingPath)
        }
        var result: [(path: String, age: RotatedSiblings.Age)] = []
        for folder in directories {
            if fresh { byDirectory.removeValue(forKey: folder) }
            for sibling in index(of: folder)[name] ?? [] {
                result.append((folder + "/" + sibling.name, sibling.age))
            }
        }
        return result.sorted { ($0.age, $0.path) < ($1.age, $1.path) }
    }

    private mutating func index(of directory: String) -> [String: [(name: String, age: RotatedSiblings.Age)]] {
        if let known = byDirectory[directory] { return known }
        var index: [String: [(name: String, age: RotatedSiblings.Age)]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            for base in RotatedSiblings.candidateBases(of: name) {
                guard let age = RotatedSiblings.age(of: name, base: base) else { continue }
                index[base, default: []].append((name, age))
            }
        }
        byDirectory[directory] = index
        return index
    }
}

/// Expands shell globs with `glob(3)`.
enum PathGlob {
    /// The regular files matching any of `patterns` and none of `excludes`, sorted by path,
    /// with the `stat` taken to check that each is a regular file (a scan of 10,000 files
    /// uses it rather than asking again).
    static func expandWithStatus(
        _ patterns: [String], excluding excludes: [String]
    ) -> [(path: String, status: FileStatus)] {
        var found: [String: FileStatus] = [:]
        for pattern in patterns {
            var result = glob_t()
            defer { globfree(&result) }
            // Sorted once below: glob's own sort collates by locale, which costs more.
            guard glob(pattern, GLOB_NOSORT, nil, &result) == 0 else { continue }
            for index in 0..<Int(result.gl_pathc) {
                guard let raw = result.gl_pathv[index] else { continue }
                if excludes.contains(where: { fnmatch($0, raw, 0) == 0 }) { continue }
                var info = stat()
                guard stat(raw, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                found[String(cString: raw)] = FileStatus(info)
            }
        }
        // String's `<` compares ASCII paths with memcmp; walking the UTF-8 views costs several
        // times more with thousands of files.
        return found.map { (path: $0.key, status: $0.value) }.sorted { $0.path < $1.path }
    }

    /// The regular files matching any of `patterns` and none of `excludes`, sorted by path.
    static func expand(_ patterns: [String], excluding excludes: [String]) -> [String] {
        expandWithStatus(patterns, excluding: excludes).map(\.path)
    }
}
