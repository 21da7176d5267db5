import Observability

/// The ingest stage's own metrics: records by outcome, DLQ and drops by reason (produced records and latency are
/// counted by the shared stage runner). A batch is counted into a `Tally` first and added once, so the
/// counters cost a few atomic additions per batch rather than a lookup per record.
public final class IngestMetrics: Sendable {
    private let metrics: MetricsRegistry
    private let outcomes: [Counter]

    /// Outcome labels, in `Tally.outcomes` order.
    private static let outcomeLabels = ["forwarded", "control", "dead-lettered", "dropped"]

    public init(metrics: MetricsRegistry) {
        self.metrics = metrics
        outcomes = Self.outcomeLabels.map { label in
            metrics.counter("cohortsync_ingest_records_total", help: "Upstream records read, by outcome.", labels: ["outcome": label])
        }
    }

    /// What one batch came to.
    struct Tally: Sendable {
        var outcomes = [Int64](repeating: 0, count: IngestMetrics.outcomeLabels.count)
        var deadLetters: [String: Int64] = [:]
        var dropped: [String: Int64] = [:]

        mutating func count(_ outcome: IngestProcessor.Outcome) {
            switch outcome {
            case .forwarded:
                outcomes[0] += 1
            case .control:
                outcomes[1] += 1
            case .deadLettered(let reason):
                outcomes[2] += 1
                deadLetters[reason, default: 0] += 1
            case .dropped(let reason):
                outcomes[3] += 1
                dropped[reason, default: 0] += 1
            }
        }
    }

    /// Adds a batch's counts.
    func add(_ tally: Tally) {
        for (counter, count) in zip(outcomes, tally.outcomes) where count > 0 { counter.increment(by: count) }
        for (reason, count) in tally.deadLetters {
            metrics.counter("cohortsync_ingest_dead_letters_total", help: "Upstream records sent to the DLQ, by reason.", labels: ["reason": reason])
                .increment(by: count)
        }
        for (reason, count) in tally.dropped {
            metrics.counter("cohortsync_ingest_dropped_total", help: "Upstream records dropped, by reason.", labels: ["reason": reason]).increment(by: count)
        }
    }
}
