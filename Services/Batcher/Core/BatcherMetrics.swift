import Observability
import Synchronization
import Wire

/// The batcher's `/metrics` (docs/operations.md lists them): members and pending work, batches and
/// operations emitted, holds, snapshots, ignored records and restores.
public final class BatcherMetrics: Sendable {
    private let registry: MetricsRegistry
    private let pending: Gauge
    private let withdrawals: Gauge
    private let heldRemovals: Counter
    private let decisions: Counter
    private let refreshed: Counter
    private let deadLettered: Counter
    private let restoreSeconds: Histogram
    private let restoredRecords: Counter
    private let records: Counter
    /// The (connection, audience) pairs a gauge was set for, so one that drops to zero is reported as zero.
    private let reported = Mutex<Set<[String]>>([])

    public init(registry: MetricsRegistry) {
        self.registry = registry
        pending = registry.gauge("cohortsync_batcher_pending_operations", help: "Member changes waiting for their audience's next flush.")
        withdrawals = registry.gauge(
            "cohortsync_batcher_withdrawals", help: "Consent withdrawals kept to refuse older memberships, per (user, audience), in the partitions this replica owns.")
        heldRemovals = registry.counter("cohortsync_batcher_held_removals_total", help: "Snapshot removals held for an operator (over maxRemovalFraction).")
        decisions = registry.counter("cohortsync_batcher_hold_decisions_total", help: "Operator decisions on held removals applied.")
        refreshed = registry.counter("cohortsync_batcher_refreshed_total", help: "X memberships queued to be added again before the 13-month expiry.")
        deadLettered = registry.counter("cohortsync_batcher_dead_lettered_total", help: "Input records that did not decode, sent to the DLQ.")
        restoreSeconds = registry.histogram(
            "cohortsync_batcher_restore_seconds", help: "Time to restore newly assigned partitions from the changelog (read at once).",
            buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120])
        restoredRecords = registry.counter("cohortsync_batcher_restored_records_total", help: "Changelog records read back on assignment.")
        records = registry.counter("cohortsync_batcher_records_total", help: "Input records taken from cohortsync.hashed.v1 (applied, ignored or dead-lettered).")
    }

    func took(records count: Int) { records.increment(by: Int64(count)) }

    func count(_ counts: PartitionLedger.Counts) {
        for (reason, count) in counts.ignored {
            registry.counter("cohortsync_batcher_ignored_total", help: "Records that changed no membership, by reason.", labels: ["reason": reason]).increment(by: Int64(count))
        }
        for (outcome, count) in counts.snapshots {
            registry.counter("cohortsync_batcher_snapshots_total", help: "Snapshot markers applied, by outcome.", labels: ["outcome": outcome]).increment(by: Int64(count))
        }
        heldRemovals.increment(by: counts.held.reduce(0) { $0 + $1.heldRemovals })
        decisions.increment(by: Int64(counts.decided))
    }

    func flushed(_ plans: [FlushPlan]) {
        for plan in plans {
            let destination = plan.destination.name
            for batch in plan.batches {
                registry.counter(
                    "cohortsync_batcher_batches_total", help: "Batches written, by destination and operation.",
                    labels: ["destination": destination, "operation": Self.name(batch.operation)]
                ).increment()
            }
            for (operation, count) in plan.operations {
                registry.counter(
                    "cohortsync_batcher_operations_total", help: "Member operations written in batches, by destination and operation.",
                    labels: ["destination": destination, "operation": Self.name(operation)]
                ).increment(by: Int64(count))
            }
        }
    }

    func refreshedMembers(_ count: Int) { refreshed.increment(by: Int64(count)) }
    func deadLettered(_ count: Int) { deadLettered.increment(by: Int64(count)) }

    func restored(records: Int, seconds: Double) {
        restoredRecords.increment(by: Int64(records))
        restoreSeconds.observe(seconds)
    }

    /// Sets the gauges from the ledgers of the partitions this replica owns now.
    func update(members: [(connectionID: String, audienceID: String, count: Int)], holds: [AudienceState], pending count: Int, withdrawals kept: Int) {
        pending.set(Double(count))
        withdrawals.set(Double(kept))
        var memberTotals: [[String]: Int] = [:]
        for member in members { memberTotals[[member.connectionID, member.audienceID], default: 0] += member.count }
        var holdTotals: [[String]: Int] = [:]
        for hold in holds { holdTotals[[hold.connectionID, hold.audienceID], default: 0] += 1 }
        let pairs = reported.withLock { reported in
            reported.formUnion(memberTotals.keys)
            return reported
        }
        for pair in pairs {
            let labels: MetricLabels = ["connection": pair[0], "audience": pair[1]]
            registry.gauge("cohortsync_batcher_members", help: "Members the destination audience holds, in the partitions this replica owns.", labels: labels)
                .set(Double(memberTotals[pair] ?? 0))
            registry.gauge("cohortsync_batcher_holds", help: "Partitions whose snapshot removal waits for an operator (cohortsync holds).", labels: labels)
                .set(Double(holdTotals[pair] ?? 0))
        }
    }

    static func name(_ operation: BatchOperation) -> String {
        switch operation {
        case .add: "add"
        case .remove: "remove"
        case .deleteAudience: "delete-audience"
        case .unspecified: "unspecified"
        }
    }
}
