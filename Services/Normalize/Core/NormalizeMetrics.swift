import Observability

/// The normalize stage's own metrics: records by outcome, refusals and DLQ by reason (produced records and latency
/// are counted by the shared stage runner). Counters are looked up once per label value and kept, because
/// every record counts at least one.
public final class NormalizeMetrics: Sendable {
    private let metrics: MetricsRegistry
    private let outcomes: [String: Counter]

    public init(metrics: MetricsRegistry) {
        self.metrics = metrics
        outcomes = Dictionary(uniqueKeysWithValues: ["hashed", "refused", "control", "dead-lettered"].map { label in
            (label, metrics.counter("cohortsync_normalize_records_total", help: "Member records read, by outcome.", labels: ["outcome": label]))
        })
    }

    public func count(_ outcome: NormalizeProcessor.Outcome, identifierRefusals: [String]) {
        outcomes[outcome.label]?.increment()
        switch outcome {
        case .refused(let reason):
            refused(reason)
        case .deadLettered(let reason):
            metrics.counter("cohortsync_normalize_dead_letters_total", help: "Records sent to the DLQ, by reason.", labels: ["reason": reason]).increment()
        case .hashed, .control:
            break
        }
        for reason in identifierRefusals { refused(reason) }
    }

    private func refused(_ reason: String) {
        metrics.counter("cohortsync_normalize_refused_total", help: "Users and identifiers refused, by reason.", labels: ["reason": reason]).increment()
    }
}
