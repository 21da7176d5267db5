/// Minimal JSON text writing for log lines and metrics labels: string escaping per RFC 8259.
enum JSONText {
    /// `value` as a JSON string literal, quotes included.
    static func quoted(_ value: String) -> String {
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    /// A log value rendered as JSON.
    static func render(_ value: LogValue) -> String {
        switch value {
        case .string(let string): quoted(string)
        case .int(let int): String(int)
        case .double(let double): double.isFinite ? String(double) : quoted(String(double))
        case .bool(let bool): bool ? "true" : "false"
        case .strings(let strings): "[" + strings.map(quoted).joined(separator: ",") + "]"
        }
    }
}
