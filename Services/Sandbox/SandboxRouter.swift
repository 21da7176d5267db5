import Foundation
import Observability
import Runtime
import Wire

/// Sends each request to the API its path belongs to, after the fault injector has had its say.
///
/// Runs on libmicrohttpd's threads. Injected latency delays the answer (the request takes effect when it
/// arrives, as on a slow server) with the connection suspended, so it holds no thread that `/healthz`,
/// `/metrics` or `/_sandbox/*` need.
struct SandboxRouter: Sendable {
    let x: XAdsAPI
    let tiktok: TikTokAPI
    let admin: SandboxAdminAPI
    let faults: FaultInjector
    let metrics: MetricsRegistry
    let health: HealthState

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        if let observability = ObservabilityServer.respond(to: request, metrics: metrics, health: health) { return observability }
        if request.path.hasPrefix("/_sandbox/") { return admin.handle(request) }
        if request.path.hasPrefix("/12/") { return serve(.x, request, x.handle) }
        if request.path.hasPrefix("/open_api/v1.3/") { return serve(.tiktok, request, tiktok.handle) }
        return .text(404, "not found: the X routes live under /12/, the TikTok routes under /open_api/v1.3/, the sandbox's own under /_sandbox/\n")
    }

    private func serve(_ api: Destination, _ request: HTTPRequest, _ handler: (HTTPRequest, InjectedFault?) -> HTTPResponse) -> HTTPResponse {
        let started = ContinuousClock.now
        let (latency, fault) = faults.decide(for: api)
        var response: HTTPResponse
        switch fault {
        case .dropConnection: response = .dropped
        case .loseAnswer:
            _ = handler(request, nil)
            response = .dropped
        default: response = handler(request, fault)
        }
        response.delay = .milliseconds(latency)
        let outcome = response.dropsConnection ? "dropped" : String(response.status)
        metrics.counter(
            "cohortsync_sandbox_requests_total", help: "Requests answered, by API and HTTP status.",
            labels: ["api": api.name, "status": outcome]
        ).increment()
        let elapsed = ContinuousClock.now - started
        metrics.histogram("cohortsync_sandbox_request_seconds", help: "Time to answer a request.", labels: ["api": api.name])
            .observe((elapsed + response.delay).inSeconds)
        return response
    }
}
