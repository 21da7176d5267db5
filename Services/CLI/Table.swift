import Foundation

/// What a listing command prints: an aligned table for people, or with `--json` one JSON array of
/// objects (column name → text) for scripts.
struct Table {
    let columns: [String]
    var rows: [[String]] = []

    /// Columns padded to their widest cell, two spaces apart; the last column is not padded.
    func aligned() -> [String] {
        let widths = columns.indices.map { column in ([columns] + rows).map { $0[column].count }.max() ?? 0 }
        return ([columns] + rows).map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    func json() -> String {
        let objects = rows.map { Dictionary(uniqueKeysWithValues: zip(columns, $0)) }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys, .prettyPrinted])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    func lines(json: Bool) -> [String] {
        json ? [self.json()] : aligned()
    }

    /// Milliseconds since the epoch as an ISO 8601 UTC time, `-` for 0 (unknown).
    static func time(_ milliseconds: Int64) -> String {
        guard milliseconds > 0 else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1_000))
    }
}
