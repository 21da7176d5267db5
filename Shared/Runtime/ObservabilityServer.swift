import Observability

/// The endpoints every executable serves: `/metrics`, `/healthz`, `/readyz`.
public enum ObservabilityServer {
    /// An HTTP service answering only the three endpoints.
    public static func service(host: String, port: UInt16, metrics: MetricsRegistry, health: HealthState, logger: Logger) -> HTTPService {
        // The three endpoints take no body: anything over a few KiB is refused before it is read.
        HTTPService(host: host, port: port, maxBodyBytes: 64 << 10, logger: logger) { request in
            respond(to: request, metrics: metrics, health: health)
                ?? .text(404, "not found: try /metrics, /healthz or /readyz\n")
        }
    }

    /// Answers the three endpoints; nil for any other path, so servers with more routes can fall through.
    public static func respond(to request: HTTPRequest, metrics: MetricsRegistry, health: HealthState) -> HTTPResponse? {
        switch request.path {
        case "/metrics", "/healthz", "/readyz":
            guard request.method == "GET" || request.method == "HEAD" else { return .text(405, "method not allowed\n") }
        default:
            return nil
        }
        switch request.path {
        case "/metrics":
            return .text(200, metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "/healthz":
            return health.isLive ? .text(200, "ok\n") : .text(503, "not live\n")
        default:
            return health.isReady ? .text(200, "ready\n") : .text(503, "not ready\n")
        }
    }
}
