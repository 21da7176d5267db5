/// Why some text is not JSON, and where: 1-based line and column (in bytes) of the first offending byte.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
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
