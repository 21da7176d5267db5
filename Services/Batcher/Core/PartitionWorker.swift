import Kafka
import Synchronization

/// One owned partition: its ledger, and its flushes executed one after another in the order they were
/// planned, so batches and changelog records of one partition reach the broker in that order.
final class PartitionWorker: Sendable {
    /// Who asks for a flush.
    enum Planner {
        /// The handler, with the records of a batch.
        case records
        /// The timer: due flushes and sweeps; nothing once the partition is being released.
        case timer
        /// The partition is about to go: the last flush; the timer plans nothing after it.
        case release
    }

    let partition: Int32
    let ledger: Mutex<PartitionLedger>
    private let tail = Mutex<Task<Void, Never>?>(nil)
    private let queued = Atomic(0)
    private let cancelled = Atomic(false)
    private let released = Atomic(false)

    init(ledger: PartitionLedger) {
        partition = ledger.partition
        self.ledger = Mutex(ledger)
    }

    /// Plans flushes with `plan` and queues their execution behind the ones planned before, under the
    /// ledger's lock: planning order is execution order whoever plans.
    func flush(
        by planner: Planner, _ plan: (inout PartitionLedger) -> [FlushPlan], execute: @escaping @Sendable ([FlushPlan], PartitionWorker) async -> Void
    ) {
        ledger.withLock { ledger in
            guard !isCancelled else { return }
            switch planner {
            case .records: break
            case .timer: if released.load(ordering: .acquiring) { return }
            case .release: released.store(true, ordering: .releasing)
            }
            let plans = plan(&ledger)
            guard !plans.isEmpty else { return }
            queued.add(1, ordering: .relaxed)
            tail.withLock { tail in
                let previous = tail
                tail = Task { [self] in
                    await previous?.value
                    defer { queued.subtract(1, ordering: .relaxed) }
                    // A partition given up writes nothing more: its next owner restores and redoes the work.
                    guard !isCancelled else { return }
                    await execute(plans, self)
                }
            }
        }
    }

    /// Stops executing what is queued, and tells a running flush to stop between its steps: the partition is gone.
    func cancel() {
        cancelled.store(true, ordering: .releasing)
    }

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Flushes queued and not yet finished.
    var queuedFlushes: Int { queued.load(ordering: .relaxed) }

    /// Waits until every queued flush has run.
    func drained() async {
        await tail.withLock { $0 }?.value
    }
}
