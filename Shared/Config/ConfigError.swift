/// One thing wrong with the configuration file: where (a JSON path), what was found, what is allowed.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// JSON path of the offending value, for example `$.connections[1].forward[2]`.
    public let path: String
    /// What the file holds there (a short, secret-free description).
    public let found: String
    /// What would be accepted instead.
    public let allowed: String

    public init(path: String, found: String, allowed: String) {
        self.path = path
        self.found = found
        self.allowed = allowed
    }

    public var description: String { "\(path): found \(found); allowed: \(allowed)" }
}

/// Every error of one configuration file, so an operator fixes them in one pass.
public struct ConfigErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public let errors: [ConfigError]

    public init(errors: [ConfigError]) {
        self.errors = errors
    }

    public var description: String {
        "the configuration has \(errors.count) error\(errors.count == 1 ? "" : "s"):\n" + errors.map { "  " + $0.description }.joined(separator: "\n")
    }

    /// Configuration errors never fix themselves.
    public var isRetriable: Bool { false }
}
