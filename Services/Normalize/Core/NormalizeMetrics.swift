import Identity
import Observability

/// The normalize stage's own metrics: records by outcome, refusals and DLQ by reason (produced records and latency
/// are counted by the shared stage runner). A batch is counted into a `Tally` first and added once, so the
/// counters cost a few atomic additions per batch rather than a lookup per record.
public final class NormalizeMetrics: Sendable {
    private let metrics: MetricsRegistry
    private let outcomes: [Counter]

    /// Outcome labels, in `Tally.outcomes` order.
    private static let outcomeLabels = ["hashed", "refused", "control", "dead-lettered"]

    public init(metrics: MetricsRegistry) {
        self.metrics = metrics
        outcomes = Self.outcomeLabels.map { label in
            metrics.counter("cohortsync_normalize_records_total", help: "Member records read, by outcome.", labels: ["outcome": label])
        }
    }

    /// What one batch came to.
    struct Tally: Sendable {
        var outcomes = [Int64](repeating: 0, count: NormalizeMetrics.outcomeLabels.count)
        var refused: [String: Int64] = [:]
        var deadLetters: [String: Int64] = [:]

        mutating func count(_ outcome: NormalizeProcessor.Outcome, identifierRefusals: [IdentityRefusal]) {
            switch outcome {
            case .hashed:
                outcomes[0] += 1
            case .refused(let reason):
                outcomes[1] += 1
                refused[reason, default: 0] += 1
            case .control:
                outcomes[2] += 1
            case .deadLettered(let reason):
                outcomes[3] += 1
                deadLetters[reason, default: 0] += 1
            }
            for refusal in identifierRefusals { refused[refusal.rawValue, default: 0] += 1 }
        }
    }

    /// Adds a batch's counts.
    func add(_ tally: Tally) {
        for (counter, count) in zip(outcomes, tally.outcomes) where count > 0 { counter.increment(by: count) }
        for (reason, count) in tally.refused {
            metrics.counter("cohortsync_normalize_refused_total", help: "Users and identifiers refused, by reason.", labels: ["reason": reason])
                .increment(by: count)
        }
        for (reason, count) in tally.deadLetters {
            metrics.counter("cohortsync_normalize_dead_letters_total", help: "Records sent to the DLQ, by reason.", labels: ["reason": reason])
                .increment(by: count)
        }
    }
}
