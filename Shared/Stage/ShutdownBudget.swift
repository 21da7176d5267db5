/// How a stage splits its shutdown grace period, so that the waits of an orderly stop add up to less than
/// it and the grace-period deadline (exit 1, or the orchestrator's SIGKILL) never lands mid-commit.
///
/// After SIGTERM the processing loop lets running handlers return and drains outstanding deliveries
/// (`drain`; handlers still running then are cancelled), the consumer commits and leaves the group
/// (`close`), and the producer flushes (`producerFlush`). A revocation during the stop is not waited for:
/// the loop has ended, and its records are redelivered.
public struct ShutdownBudget: Sendable, Equatable {
    /// Running handlers and the deliveries of records already handled: 40 % of the grace period.
    public let drain: Duration
    /// Committing and leaving the group: 15 %.
    public let close: Duration
    /// Flushing what the producer still holds: 35 %, leaving a tenth of the grace period unspent.
    public let producerFlush: Duration

    public init(gracePeriod: Duration) {
        drain = gracePeriod * 40 / 100
        close = gracePeriod * 15 / 100
        producerFlush = gracePeriod * 35 / 100
    }

    /// The processing loop's share of the budget.
    public func limits(maxConcurrentBatches: Int = 1) -> ProcessingLoop.Limits {
        ProcessingLoop.Limits(drainTimeout: drain, revocationTimeout: drain, closeTimeout: close, maxConcurrentBatches: maxConcurrentBatches)
    }
}
