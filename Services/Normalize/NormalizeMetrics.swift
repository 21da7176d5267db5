import Runtime

/// The normalize stage's own metrics: records by outcome, refusals and DLQ by reason (produced records and latency
/// are counted by the shared stage runner).
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
}
