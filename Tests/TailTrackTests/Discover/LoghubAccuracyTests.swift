import Foundation
import Testing
import TrackTestServer

@testable import TailTrack

/// Grouping accuracy on the four loghub development datasets (`../shared/loghub` beside the
/// package root, when present): every line of `X_2k.log` mined, then each line's template
/// compared with the `EventId` of `X_2k.log_structured.csv`. Prints the figures the README
/// reports; skipped where the datasets are not there.
@Suite struct LoghubAccuracyTests {
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().path + "/shared/loghub"
    }()

    static var available: Bool { FileManager.default.fileExists(atPath: directory + "/HDFS_2k.log") }

    @Test(.enabled(if: available), arguments: ["Apache", "HDFS", "Zookeeper", "Hadoop"])
    func groupingAccuracy(_ dataset: String) throws {
        let accuracy = try Self.measure(dataset)
        print("discover grouping accuracy \(dataset): \(accuracy)")
        #expect(accuracy >= 0.98)
    }

    /// Mines `dataset`'s log and returns its grouping accuracy.
    static func measure(_ dataset: String) throws -> Double {
        let log = try String(contentsOfFile: "\(directory)/\(dataset)_2k.log", encoding: .utf8)
        let csv = try String(contentsOfFile: "\(directory)/\(dataset)_2k.log_structured.csv", encoding: .utf8)
        let truth = eventIDs(csv)
        // By bytes: a String's Characters take "\r\n" as one.
        let lines = log.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
        }.prefix(truth.count)
        let miner = TemplateMiner()
        for line in lines {
            var copy = line
            _ = copy.withUTF8 { miner.add(UnsafeRawBufferPointer($0)) }
        }
        let predicted = lines.map { line -> String in
            var copy = line
            return String(copy.withUTF8 { miner.assign(UnsafeRawBufferPointer($0)) })
        }
        return DiscoverAccuracy.grouping(truth: truth, predicted: Array(predicted))
    }

    /// The `EventId` column of a loghub structured CSV (RFC 4180 quoting).
    static func eventIDs(_ csv: String) -> [String] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = csv.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = next }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"": quoted = true
            case ",":
                row.append(field)
                field = ""
            case "\r": break
            case "\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            default: field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        guard let header = rows.first, let column = header.firstIndex(of: "EventId") else { return [] }
        return rows.dropFirst().compactMap { $0.count > column ? $0[column] : nil }
    }
}
