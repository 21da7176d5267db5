/// Why some text is not JSON, and where: the 1-based line and column (counted in bytes) of the first
/// offending byte, or for invalid UTF-8 the start of the string that holds it.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line.
    public let line: Int
    /// 1-based column, in bytes.
    public let column: Int
    /// What was expected there, never the offending text (it may be personal data).
    public let expected: String

    public init(line: Int, column: Int, expected: String) {
        self.line = line
        self.column = column
        self.expected = expected
    }

    public var description: String { "line \(line), column \(column): \(expected)" }
}
