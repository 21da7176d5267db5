import Observability

/// The options every CohortSync executable shares: HTTP listener, log level, shutdown grace period.
public struct ServiceSettings: Sendable {
    public let httpHost: String
    public let httpPort: UInt16
    public let logLevel: LogLevel
    public let gracePeriod: Duration

    /// Option specs to append to an executable's own.
    /// - Parameter defaultHTTPPort: each stage has its own so several can run on one host.
    public static func options(defaultHTTPPort: Int) -> [OptionSpec] {
        [
            OptionSpec("http-host", environment: "HTTP_HOST", default: "0.0.0.0", help: "Address for /metrics, /healthz and /readyz."),
            OptionSpec("http-port", environment: "HTTP_PORT", default: String(defaultHTTPPort), help: "Port for /metrics, /healthz and /readyz (0: any free port)."),
            OptionSpec("log-level", environment: "LOG_LEVEL", default: "info", help: "debug, info, warning or error."),
            OptionSpec(
                "shutdown-grace", environment: "SHUTDOWN_GRACE_SECONDS", default: "25",
                help: "Seconds to finish in-flight work after SIGTERM before exiting anyway; keep below the pod's grace period."),
        ]
    }

    /// Reads the shared options.
    /// - Throws: `RuntimeError` `.invalidValue` naming the option.
    public init(_ options: ParsedOptions) throws(RuntimeError) {
        httpHost = options.string("http-host") ?? "0.0.0.0"
        httpPort = UInt16(try options.integer("http-port", in: 0...65535))
        let levelName = options.string("log-level") ?? "info"
        guard let level = LogLevel(name: levelName) else {
            throw RuntimeError(code: .invalidValue, message: "--log-level must be debug, info, warning or error, got '\(levelName)'")
        }
        logLevel = level
        gracePeriod = try options.seconds("shutdown-grace")
    }
}
