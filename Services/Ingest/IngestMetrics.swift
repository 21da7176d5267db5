import Runtime

/// The ingest stage's metrics: records by outcome, DLQ and drops by reason, processing latency.
enum IngestMetrics {
    static func count(_ outcome: IngestProcessor.Outcome, metrics: MetricsRegistry) {
        metrics.counter("cohortsync_ingest_records_total", help: "Upstream records read, by outcome.", labels: ["outcome": outcome.label]).increment()
        switch outcome {
        case .deadLettered(let reason):
            metrics.counter("cohortsync_ingest_dead_letters_total", help: "Upstream records sent to the DLQ, by reason.", labels: ["reason": reason]).increment()
        case .dropped(let reason):
            metrics.counter("cohortsync_ingest_dropped_total", help: "Upstream records dropped, by reason.", labels: ["reason": reason]).increment()
        case .forwarded, .control:
            break
        }
    }

    static func observe(since started: ContinuousClock.Instant, metrics: MetricsRegistry) {
        let elapsed = ContinuousClock.now - started
        metrics.histogram("cohortsync_ingest_processing_seconds", help: "Time from reading a record to handing its output to the producer.")
            .observe(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
