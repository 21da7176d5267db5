import Runtime

/// The normalize stage's metrics: records by outcome, refusals by reason, DLQ, processing latency.
enum NormalizeMetrics {
    static func count(_ outcome: NormalizeProcessor.Outcome, identifierRefusals: [String], metrics: MetricsRegistry) {
        metrics.counter("cohortsync_normalize_records_total", help: "Member records read, by outcome.", labels: ["outcome": outcome.label]).increment()
        switch outcome {
        case .refused(let reason):
            metrics.counter("cohortsync_normalize_refused_total", help: "Users and identifiers refused, by reason.", labels: ["reason": reason]).increment()
        case .deadLettered(let reason):
            metrics.counter("cohortsync_normalize_dead_letters_total", help: "Records sent to the DLQ, by reason.", labels: ["reason": reason]).increment()
        case .hashed, .control:
            break
        }
        for reason in identifierRefusals {
            metrics.counter("cohortsync_normalize_refused_total", help: "Users and identifiers refused, by reason.", labels: ["reason": reason]).increment()
        }
    }

    static func observe(since started: ContinuousClock.Instant, metrics: MetricsRegistry) {
        let elapsed = ContinuousClock.now - started
        metrics.histogram("cohortsync_normalize_processing_seconds", help: "Time from reading a record to handing its output to the producer.")
            .observe(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
