import Observability
import Synchronization
import Wire

/// The uploader's metrics, per connection: requests, retries, 429s, pauses, ids uploaded, latency.
public final class UploadMetrics: Sendable {
    private let registry: MetricsRegistry
    /// Lanes paused per connection; the gauge is 1 while any is.
    private let pausedLanes = Mutex<[String: Int]>([:])

    /// Starts the per-connection counters and the pause gauge of `connections` at 0, so a rate or an alert
    /// over them has a series from the start rather than only after the first retry, 429 or refusal.
    public init(registry: MetricsRegistry, connections: [String] = []) {
        self.registry = registry
        for connection in connections {
            _ = (retries(connection), rateLimited(connection), refused(connection))
            pausedGauge(connection).set(0)
        }
    }

    private func retries(_ connection: String) -> Counter {
        registry.counter("cohortsync_upload_retries_total", help: "Calls sent again after a transient failure.", labels: ["connection": connection])
    }

    private func rateLimited(_ connection: String) -> Counter {
        registry.counter("cohortsync_upload_rate_limited_total", help: "Answers saying the rate limit was hit (HTTP 429, TikTok 40100).", labels: ["connection": connection])
    }

    private func refused(_ connection: String) -> Counter {
        registry.counter("cohortsync_upload_refused_total", help: "Users the destination refused (sent to the DLQ).", labels: ["connection": connection])
    }

    private func pausedGauge(_ connection: String) -> Gauge {
        registry.gauge("cohortsync_upload_connection_paused", help: "1 while the connection's credential is refused and its uploads wait.", labels: ["connection": connection])
    }

    func request(_ connection: String, _ endpoint: String, outcome: String) {
        registry.counter(
            "cohortsync_upload_requests_total", help: "Destination calls, by connection, endpoint and outcome.",
            labels: ["connection": connection, "endpoint": endpoint, "outcome": outcome]
        ).increment()
    }

    func retry(_ connection: String, rateLimited: Bool) {
        retries(connection).increment()
        if rateLimited { self.rateLimited(connection).increment() }
    }

    /// Counts a batch of `connection` starting or ending a pause; true when it is the first to pause it.
    @discardableResult
    func paused(_ connection: String, _ isPaused: Bool) -> Bool {
        let count = pausedLanes.withLock { lanes in
            lanes[connection, default: 0] += isPaused ? 1 : -1
            return lanes[connection]!
        }
        pausedGauge(connection).set(count > 0 ? 1 : 0)
        return isPaused && count == 1
    }

    func batch(_ connection: String, _ operation: BatchOperation, status: String, accepted: Int, refused: Int, seconds: Double) {
        let kind = operation == .remove ? "remove" : operation == .deleteAudience ? "delete_audience" : "add"
        registry.counter("cohortsync_upload_batches_total", help: "Batches finished, by connection, operation and status.", labels: ["connection": connection, "operation": kind, "status": status])
            .increment()
        registry.counter("cohortsync_upload_ids_total", help: "Users the destination took, by connection and operation.", labels: ["connection": connection, "operation": kind])
            .increment(by: Int64(accepted))
        if refused > 0 { self.refused(connection).increment(by: Int64(refused)) }
        registry.histogram(
            "cohortsync_upload_batch_seconds", help: "From taking a batch to its outcome, retries and pauses included.", labels: ["connection": connection],
            buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
        ).observe(seconds)
    }

    func audienceCreated(_ connection: String) {
        registry.counter("cohortsync_upload_audiences_created_total", help: "Destination audiences created.", labels: ["connection": connection]).increment()
    }

    func audienceAdopted(_ connection: String) {
        registry.counter(
            "cohortsync_upload_audiences_adopted_total", help: "Destination audiences an earlier create made, found after its answer or mapping was lost.",
            labels: ["connection": connection]).increment()
    }

    func deadLettered(_ reason: String, count: Int = 1) {
        registry.counter("cohortsync_upload_dead_lettered_total", help: "Dead letters written, by reason.", labels: ["reason": reason]).increment(by: Int64(count))
    }
}
