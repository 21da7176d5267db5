/// An error from the service runtime: bad command line or environment, or a listener that cannot start.
public struct RuntimeError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Stable error codes.
    public enum Code: String, Sendable {
        /// A flag that the executable does not have.
        case unknownOption = "unknown-option"
        /// A flag given without its value.
        case missingValue = "missing-value"
        /// A value that does not parse as the option's type.
        case invalidValue = "invalid-value"
        /// A required option that is set neither as a flag nor in the environment.
        case missingOption = "missing-option"
        /// The HTTP listener could not bind its address.
        case listener = "listener"
    }

    public let code: Code
    /// What is wrong and how to fix it.
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// Binding can succeed later (port released); wrong options never fix themselves.
    public var isRetriable: Bool { code == .listener }

    public var description: String { "\(code.rawValue): \(message)" }
}
