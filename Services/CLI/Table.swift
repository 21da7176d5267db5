import Foundation

/// What a listing command prints: an aligned table for people, or with `--json` one JSON array of
/// objects (column name → text) for scripts.
struct Table {
    let columns: [String]
    /// Columns whose cells are whole numbers: numbers in JSON.
    var numeric: Set<String> = []
    var rows: [[String]] = []
    /// The longest cell the aligned view shows; JSON keeps every cell whole.
    static let widest = 100

    /// Columns padded to their widest cell, two spaces apart; the last column is not padded. Control
    /// characters are shown escaped: a cell is upstream or stored text, and must not move the cursor,
    /// recolour the terminal or add a line of its own.
    func aligned() -> [String] {
        let shown = rows.map { row in row.map { Self.printable($0) } }
        let widths = columns.indices.map { column in ([columns] + shown).map { $0[column].count }.max() ?? 0 }
        return ([columns] + shown).map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    private static func printable(_ cell: String) -> String {
        var text = ""
        for scalar in cell.unicodeScalars {
            switch scalar.value {
            case 0x0A: text += "\\n"
            case 0x09: text += "\\t"
            case 0x00..<0x20, 0x7F..<0xA0: text += "\\u{\(String(scalar.value, radix: 16))}"
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text.count > widest ? String(text.prefix(widest - 1)) + "…" : text
    }

    /// One object per row; "-" (nothing known) is null, numeric columns are numbers.
    func json() -> String {
        let objects = rows.map { row in
            Dictionary(uniqueKeysWithValues: zip(columns, row).map { column, cell -> (String, Any) in
                if cell == "-" { return (column, NSNull()) }
                if numeric.contains(column), let number = Int(cell) { return (column, number) }
                return (column, cell)
            })
        }
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
