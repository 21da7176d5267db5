import Kafka
import Synchronization

/// One owned partition: its ledger, and its flushes executed one after another in the order they were
/// planned, so batches and changelog records of one partition reach the broker in that order.
final class PartitionWorker: Sendable {
    let partition: Int32
    let ledger: Mutex<PartitionLedger>
    private let tail = Mutex<Task<Void, Never>?>(nil)
    private let cancelled = Atomic(false)

    init(ledger: PartitionLedger) {
        partition = ledger.partition
        self.ledger = Mutex(ledger)
    }

    /// Plans flushes with `plan` and queues their execution behind the ones planned before, under the
    /// ledger's lock: planning order is execution order whoever plans (the handler or the timer).
    func flush(_ plan: (inout PartitionLedger) -> [FlushPlan], execute: @escaping @Sendable ([FlushPlan]) async -> Void) {
        ledger.withLock { ledger in
            let plans = plan(&ledger)
            guard !plans.isEmpty else { return }
            tail.withLock { tail in
                let previous = tail
                tail = Task { [self] in
                    await previous?.value
                    // A partition given up (its revocation timed out) writes nothing more.
                    guard !cancelled.load(ordering: .acquiring) else { return }
                    await execute(plans)
                }
            }
        }
    }

    /// Stops executing what is queued: the partition is gone.
    func cancel() {
        cancelled.store(true, ordering: .releasing)
    }

    /// Waits until every queued flush has run.
    func drained() async {
        await tail.withLock { $0 }?.value
    }
}
