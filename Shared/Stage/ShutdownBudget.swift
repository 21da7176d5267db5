/// How a stage splits its shutdown grace period, so that the waits of an orderly stop add up to less than
/// it and the orchestrator's SIGKILL never lands mid-commit.
///
/// After SIGTERM the processing loop drains in-flight deliveries (`drain`), the consumer commits and leaves
/// the group (a broker round trip, in what is left), and the producer flushes (`producerFlush`). A revocation
/// during the stop is not waited for: the loop has ended, and its records are redelivered.
public struct ShutdownBudget: Sendable, Equatable {
    /// Waiting for the deliveries of records already handled: 40 % of the grace period.
    public let drain: Duration
    /// Flushing what the producer still holds: 40 %, leaving 20 % for the commit and leaving the group.
    public let producerFlush: Duration

    public init(gracePeriod: Duration) {
        drain = gracePeriod * 2 / 5
        producerFlush = gracePeriod * 2 / 5
    }
}
