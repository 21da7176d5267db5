import Observability

/// The ingest stage's own metrics: records by outcome, DLQ and drops by reason (produced records and latency are
/// counted by the shared stage runner). Outcome counters are looked up once and kept: every record counts one.
public final class IngestMetrics: Sendable {
    private let metrics: MetricsRegistry
    private let outcomes: [String: Counter]

    public init(metrics: MetricsRegistry) {
        self.metrics = metrics
        outcomes = Dictionary(uniqueKeysWithValues: ["forwarded", "control", "dead-lettered", "dropped"].map { label in
            (label, metrics.counter("cohortsync_ingest_records_total", help: "Upstream records read, by outcome.", labels: ["outcome": label]))
        })
    }

    public func count(_ outcome: IngestProcessor.Outcome) {
        outcomes[outcome.label]?.increment()
        switch outcome {
        case .deadLettered(let reason):
            metrics.counter("cohortsync_ingest_dead_letters_total", help: "Upstream records sent to the DLQ, by reason.", labels: ["reason": reason]).increment()
        case .dropped(let reason):
            metrics.counter("cohortsync_ingest_dropped_total", help: "Upstream records dropped, by reason.", labels: ["reason": reason]).increment()
        case .forwarded, .control:
            break
        }
    }
}
