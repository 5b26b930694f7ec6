/// Byte sizes as written in the config: `500`, `500B`, `500KB` (500,000), `64KiB` (65,536),
/// `1MB`, `1MiB`, `1GB`, `1GiB`; units are case-insensitive.
enum SizeParser {
    /// What the error message suggests.
    static let expectedForm = "bytes, or a number with KB, KiB, MB, MiB, GB or GiB, such as 64KiB"

    private static let bytesPerUnit: [String: Double] = [
        "": 1,
        "b": 1,
        "kb": 1_000,
        "kib": 1_024,
        "mb": 1_000_000,
        "mib": 1_048_576,
        "gb": 1_000_000_000,
        "gib": 1_073_741_824,
    ]

    /// The number of bytes `text` denotes, or `nil` when it is not a whole, non-negative size.
    static func parse(_ text: String) -> Int64? {
        let (number, unit) = text.trimmingSpaces().splitNumberAndUnit()
        guard let scale = bytesPerUnit[unit.lowercased()] else { return nil }
        if unit.isEmpty || unit.lowercased() == "b" {
            // Plain bytes: whole numbers only, exactly.
            return Int64(number).flatMap { $0 >= 0 ? $0 : nil }
        }
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let bytes = value * scale
        guard bytes < Double(Int64.max), bytes == bytes.rounded() else { return nil }
        return Int64(bytes)
    }
}
