/// Option values after parsing: flag, else environment, else default.
public struct ParsedOptions: Sendable {
    public let executable: String
    let values: [String: String]
    let switches: Set<String>
    /// Arguments that are not options, in order.
    public let positionals: [String]

    /// The value of `name`, if set anywhere.
    public func string(_ name: String) -> String? { values[name] }

    /// Whether the switch `name` was given.
    public func isSet(_ name: String) -> Bool { switches.contains(name) }

    /// The value of `name` as an integer in `range`.
    /// - Throws: `RuntimeError` `.invalidValue` or `.missingOption`.
    public func integer(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(RuntimeError) -> Int {
        guard let text = values[name] else {
            throw RuntimeError(code: .missingOption, message: "missing --\(name)")
        }
        guard let value = Int(text), range.contains(value) else {
            throw RuntimeError(code: .invalidValue, message: "--\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// The value of `name` as seconds (fractions allowed), as a `Duration`.
    /// - Throws: `RuntimeError` `.invalidValue` or `.missingOption`.
    public func seconds(_ name: String) throws(RuntimeError) -> Duration {
        guard let text = values[name] else {
            throw RuntimeError(code: .missingOption, message: "missing --\(name)")
        }
        guard let value = Double(text), value >= 0, value.isFinite else {
            throw RuntimeError(code: .invalidValue, message: "--\(name) must be a non-negative number of seconds, got '\(text)'")
        }
        return .milliseconds(Int64(value * 1000))
    }
}
