import Observability
import Wire

/// Counts the users an API's requests added and removed, and how many of those changed nothing: an add of a
/// member already there or a removal of one already gone. Those are the duplicates a pipeline sent, what an
/// at-least-once pipeline pays for a crash; the chaos run reports them.
struct UserOperationCounter: Sendable {
    /// One request's tally, kept while its users are applied under the store's lock.
    struct Tally {
        var added = 0
        var addedUnchanged = 0
        var removed = 0
        var removedUnchanged = 0

        mutating func add(changed: Bool) {
            if changed { added += 1 } else { addedUnchanged += 1 }
        }

        mutating func remove(changed: Bool) {
            if changed { removed += 1 } else { removedUnchanged += 1 }
        }
    }

    let metrics: MetricsRegistry
    let api: Destination

    func record(_ tally: Tally) {
        for (operation, effect, count) in [
            ("add", "changed", tally.added), ("add", "unchanged", tally.addedUnchanged), ("remove", "changed", tally.removed),
            ("remove", "unchanged", tally.removedUnchanged),
        ] where count > 0 {
            metrics.counter(
                "cohortsync_sandbox_user_operations_total", help: "Users added or removed by requests, by whether that changed the audience.",
                labels: ["api": api.name, "operation": operation, "effect": effect]
            ).increment(by: Int64(count))
        }
    }
}
