/// One command-line option, with the environment variable that can set it and its default.
public struct OptionSpec: Sendable {
    /// Name without the leading dashes: `port` is given as `--port 9090` or `--port=9090`.
    public let name: String
    /// Environment variable read when the flag is absent.
    public let environment: String?
    /// Value used when neither the flag nor the variable is set; nil makes the option optional with no value.
    public let defaultValue: String?
    /// One line for `--help`.
    public let help: String
    /// A switch without a value (`--print-config`).
    public let isSwitch: Bool
    /// Whether the value must be set by flag or environment.
    public let isRequired: Bool
    /// Whether the value is a credential, never shown by `--help` or logs.
    public let isSecret: Bool

    public init(
        _ name: String, environment: String? = nil, default defaultValue: String? = nil, help: String,
        isRequired: Bool = false, isSecret: Bool = false
    ) {
        self.name = name
        self.environment = environment
        self.defaultValue = defaultValue
        self.help = help
        self.isSwitch = false
        self.isRequired = isRequired
        self.isSecret = isSecret
    }

    private init(switchNamed name: String, help: String) {
        self.name = name
        self.environment = nil
        self.defaultValue = nil
        self.help = help
        self.isSwitch = true
        self.isRequired = false
        self.isSecret = false
    }

    /// A switch without a value.
    public static func flag(_ name: String, help: String) -> OptionSpec {
        OptionSpec(switchNamed: name, help: help)
    }
}
