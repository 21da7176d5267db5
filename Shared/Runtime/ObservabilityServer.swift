import Synchronization

/// The HTTP service every executable runs: `/metrics`, `/healthz`, `/readyz`.
public final class ObservabilityServer: Service {
    public let name = "http"
    private let host: String
    private let requestedPort: UInt16
    private let metrics: MetricsRegistry
    private let health: HealthState
    private let logger: Logger
    private let server = Mutex<HTTPServer?>(nil)
    private let stopped = Mutex<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    public init(host: String, port: UInt16, metrics: MetricsRegistry, health: HealthState, logger: Logger) {
        self.host = host
        self.requestedPort = port
        self.metrics = metrics
        self.health = health
        self.logger = logger
    }

    /// Answers the three endpoints; 404 for anything else.
    static func respond(to request: HTTPRequest, metrics: MetricsRegistry, health: HealthState) -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .text(405, "method not allowed\n")
        }
        switch request.path {
        case "/metrics":
            return .text(200, metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "/healthz":
            return health.isLive ? .text(200, "ok\n") : .text(503, "not live\n")
        case "/readyz":
            return health.isReady ? .text(200, "ready\n") : .text(503, "not ready\n")
        default:
            return .text(404, "not found: try /metrics, /healthz or /readyz\n")
        }
    }

    public func run() async throws {
        let metrics = metrics
        let health = health
        let started = try HTTPServer(host: host, port: requestedPort, threads: 2) { request in
            Self.respond(to: request, metrics: metrics, health: health)
        }
        server.withLock { $0 = started }
        logger.info("http listening", [("host", .string(host)), ("port", .integer(started.port))])
        await withCheckedContinuation { continuation in
            let done = stopped.withLock { state in
                if !state.done { state.waiter = continuation }
                return state.done
            }
            if done { continuation.resume() }
        }
        started.stop()
    }

    public func shutdown() async {
        let waiter = stopped.withLock { state -> CheckedContinuation<Void, Never>? in
            state.done = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
