import Destinations
import Observability
import Runtime
import Wire

/// The sandbox's command line: where it listens, which credentials it accepts, its limits and faults.
struct SandboxSettings: Sendable {
    static let spec = CommandLineSpec(
        executable: "cohortsync-sandbox",
        summary: """
            An X Ads API v12 and TikTok Business API v1.3 emulator for the demo, the tests and dry runs.
            X routes live under /12/, TikTok routes under /open_api/v1.3/, as on the real hosts; the sandbox's
            own routes: GET /_sandbox/audiences, POST /_sandbox/reset, GET|POST /_sandbox/faults, GET /_sandbox/arrivals
            (with --arrival-journal), and /metrics, /healthz, /readyz.
            """,
        options: [
            OptionSpec("host", environment: "SANDBOX_HOST", default: "127.0.0.1", help: "IPv4 address to listen on (0.0.0.0 for every interface)."),
            OptionSpec("port", environment: "SANDBOX_PORT", default: "8089", help: "Port to listen on (0: any free port)."),
            OptionSpec("threads", environment: "SANDBOX_THREADS", default: "4", help: "Request handler threads."),
            OptionSpec("x-consumer-key", environment: "SANDBOX_X_CONSUMER_KEY", default: "sandbox-consumer-key", help: "Accepted X OAuth consumer key."),
            OptionSpec("x-consumer-secret", environment: "SANDBOX_X_CONSUMER_SECRET", default: "sandbox-consumer-secret", help: "Accepted X OAuth consumer secret."),
            OptionSpec("x-token", environment: "SANDBOX_X_TOKEN", default: "sandbox-token", help: "Accepted X OAuth access token."),
            OptionSpec("x-token-secret", environment: "SANDBOX_X_TOKEN_SECRET", default: "sandbox-token-secret", help: "Accepted X OAuth access token secret."),
            OptionSpec("tiktok-token", environment: "SANDBOX_TIKTOK_TOKEN", default: "sandbox-tiktok-token", help: "Accepted TikTok Access-Token."),
            OptionSpec("x-max-operations", environment: "SANDBOX_X_MAX_OPERATIONS", default: "2500", help: "Operations per X users request."),
            OptionSpec("x-max-bytes", environment: "SANDBOX_X_MAX_BYTES", default: "5000000", help: "Bytes per X users request."),
            OptionSpec("x-audience-rate-limit", environment: "SANDBOX_X_AUDIENCE_RATE_LIMIT", default: "1500", help: "X audience-endpoint requests per window per account."),
            OptionSpec("x-write-rate-limit", environment: "SANDBOX_X_WRITE_RATE_LIMIT", default: "450", help: "X write requests (POST, PUT, DELETE) per window per account."),
            OptionSpec("tiktok-max-users", environment: "SANDBOX_TIKTOK_MAX_USERS", default: "10000", help: "Users per TikTok mapping request."),
            OptionSpec("tiktok-rate-limit", environment: "SANDBOX_TIKTOK_RATE_LIMIT", default: "600", help: "TikTok requests per window per token."),
            OptionSpec("rate-window-seconds", environment: "SANDBOX_RATE_WINDOW_SECONDS", default: "60", help: "Length of a rate-limit window."),
            OptionSpec(
                "faults", environment: "SANDBOX_FAULTS", default: "{}",
                help: #"Faults at start, as POST /_sandbox/faults takes them: {"x":{"errors":{"503":0.1},"rate_limit_burst":3,"latency_ms":50,"latency_jitter_ms":100,"drop_rate":0.01,"token_revoked":false},"tiktok":{...}}"#),
            OptionSpec(
                "max-buffered-mb", environment: "SANDBOX_MAX_BUFFERED_MB", default: "128",
                help: "Request bodies held at once, all connections together, in MiB; a request past it is answered 503 with Retry-After."),
            OptionSpec(
                "arrival-journal", environment: "SANDBOX_ARRIVAL_JOURNAL", default: "0",
                help: "Keep when each added user arrived, up to this many (0: off), for GET /_sandbox/arrivals: latency benchmarks."),
            OptionSpec("log-level", environment: "LOG_LEVEL", default: "info", help: "debug, info, warning or error."),
            OptionSpec("shutdown-grace", environment: "SHUTDOWN_GRACE_SECONDS", default: "10", help: "Seconds to finish answering after SIGTERM."),
        ])

    let host: String
    let port: UInt16
    let threads: Int
    let xCredentials: OAuth1.Credentials
    let tiktokToken: String
    let xLimits: XAdsAPI.Limits
    let tiktokLimits: TikTokAPI.Limits
    let faults: [Destination: FaultPlan]
    let logLevel: LogLevel
    let gracePeriod: Duration
    /// Request bodies held at once, all connections together (`--max-buffered-mb`).
    let maxBufferedBytes: Int
    /// Arrivals kept for `GET /_sandbox/arrivals` (`--arrival-journal`); 0 keeps none.
    let arrivalJournalCapacity: Int

    /// The largest request body the listener reads: X's limit with room for its own 400 answer, and at least
    /// 16 MiB for TikTok's 10,000-row mappings. Anything larger is answered 413 before it is read.
    var maxRequestBytes: Int { max(16 << 20, xLimits.maxBodyBytes + (1 << 20)) }

    /// - Throws: `RuntimeError` naming the option that is wrong.
    init(_ options: ParsedOptions) throws(RuntimeError) {
        host = options.string("host") ?? "127.0.0.1"
        port = UInt16(try options.integer("port", in: 0...65535))
        threads = try options.integer("threads", in: 1...256)
        xCredentials = OAuth1.Credentials(
            consumerKey: options.string("x-consumer-key") ?? "", consumerSecret: options.string("x-consumer-secret") ?? "",
            token: options.string("x-token") ?? "", tokenSecret: options.string("x-token-secret") ?? "")
        tiktokToken = options.string("tiktok-token") ?? ""
        let window = Int64(try options.integer("rate-window-seconds", in: 1...86_400))
        xLimits = XAdsAPI.Limits(
            maxOperations: try options.integer("x-max-operations", in: 1...1_000_000),
            maxBodyBytes: try options.integer("x-max-bytes", in: 1...100_000_000),
            audienceRequestsPerWindow: try options.integer("x-audience-rate-limit", in: 1...1_000_000_000),
            writeRequestsPerWindow: try options.integer("x-write-rate-limit", in: 1...1_000_000_000),
            windowSeconds: window)
        tiktokLimits = TikTokAPI.Limits(
            maxUsersPerRequest: try options.integer("tiktok-max-users", in: 1...1_000_000),
            requestsPerWindow: try options.integer("tiktok-rate-limit", in: 1...1_000_000_000),
            windowSeconds: window)
        do throws(SandboxRequestError) {
            let parsed = try SandboxJSON.parse(Array((options.string("faults") ?? "{}").utf8))
            guard let object = (parsed ?? [String: Any]()) as? [String: Any] else {
                throw SandboxRequestError("must be a JSON object")
            }
            faults = try SandboxAdminAPI.plans(from: object)
        } catch {
            throw RuntimeError(code: .invalidValue, message: "--faults \(error.message)")
        }
        guard let level = LogLevel(name: options.string("log-level") ?? "info") else {
            throw RuntimeError(code: .invalidValue, message: "--log-level must be debug, info, warning or error")
        }
        logLevel = level
        gracePeriod = try options.seconds("shutdown-grace")
        maxBufferedBytes = try options.integer("max-buffered-mb", in: 16...65_536) << 20
        arrivalJournalCapacity = try options.integer("arrival-journal", in: 0...100_000_000)
    }
}
