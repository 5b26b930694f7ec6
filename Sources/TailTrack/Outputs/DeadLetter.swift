import Foundation

/// One operation that will never reach Track, with where it came from and why: one line of
/// `dead-letter.jsonl`.
///
/// `{"time":"2026-11-22T10:00:00.000Z","rule":"purchase","source":"app","file":"/var/log/app.log",
/// "offset":1234,"reason":"…","operation":{…}}` — `operation` is the operation exactly as it
/// would have been sent (or `null` when it could not be built), and always comes last so that
/// a replay can take its bytes back unchanged.
public struct DeadLetter: Sendable, Equatable {
    public var time: Date
    public var rule: String
    public var source: String
    /// The path of the log file the line came from.
    public var file: String
    /// Offset of the line in that file.
    public var offset: UInt64
    public var reason: String
    /// The operation's JSON bytes; may be empty.
    public var operation: [UInt8]

    public init(
        time: Date,
        rule: String,
        source: String,
        file: String,
        offset: UInt64,
        reason: String,
        operation: [UInt8]
    ) {
        self.time = time
        self.rule = rule
        self.source = source
        self.file = file
        self.offset = offset
        self.reason = reason
        self.operation = operation
    }

    static let operationKey: [UInt8] = Array(#","operation":"#.utf8)

    /// The line, without its newline.
    public func jsonLine() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: operation.count + 256)
        writer.append(#"{"time":"#)
        writer.writeString(Self.timeText(time))
        writer.append(#","rule":"#)
        writer.writeString(rule)
        writer.append(#","source":"#)
        writer.writeString(source)
        writer.append(#","file":"#)
        writer.writeString(file)
        writer.append(#","offset":"#)
        writer.writeInteger(Int64(clamping: offset))
        writer.append(#","reason":"#)
        writer.writeString(reason)
        writer.append(raw: Self.operationKey)
        if operation.isEmpty {
            writer.append("null")
        } else if Self.isJSONObject(operation) {
            writer.append(raw: operation)
        } else {
            // Half-built bytes are kept, as a string, for the user to look at.
            writer.writeString(String(decoding: operation, as: UTF8.self))
        }
        writer.append("}")
        return writer.bytes
    }

    /// Reads a line written by ``jsonLine()``; `nil` when it is not one.
    public init?(jsonLine line: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let reason = object["reason"] as? String
        else { return nil }
        let time = (object["time"] as? String).flatMap(Self.parseTime) ?? Date(timeIntervalSince1970: 0)
        var operation: [UInt8] = []
        if object["operation"] is [String: Any], let start = Self.operationStart(in: line) {
            var end = line.count
            while end > start, line[end - 1] != UInt8(ascii: "}") { end -= 1 }
            operation = Array(line[start..<max(start, end - 1)])
        } else if let text = object["operation"] as? String {
            operation = Array(text.utf8)
        }
        self.init(
            time: time,
            rule: object["rule"] as? String ?? "",
            source: object["source"] as? String ?? "",
            file: object["file"] as? String ?? "",
            offset: (object["offset"] as? NSNumber)?.uint64Value ?? 0,
            reason: reason,
            operation: operation
        )
    }

    /// Where the operation's bytes start: just after the first `,"operation":` (which cannot
    /// occur inside an escaped string, whose quotes are all preceded by a backslash).
    private static func operationStart(in line: [UInt8]) -> Int? {
        let key = operationKey
        guard line.count >= key.count else { return nil }
        for start in 0...(line.count - key.count) where line[start] == key[0] {
            if line[start..<(start + key.count)].elementsEqual(key) { return start + key.count }
        }
        return nil
    }

    private static func isJSONObject(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) is [String: Any]
    }

    static func timeText(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func parseTime(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
            ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}
