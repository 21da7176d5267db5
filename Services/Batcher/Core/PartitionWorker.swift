import Kafka
import Synchronization

/// One owned partition: its ledger, and at most one flush of it in flight.
///
/// Changes go into the ledger at once; a flush is planned from the ledger only when none is running, and when
/// one finishes the next is planned from everything that became due meanwhile (group commit: the slower the
/// broker, the more each flush carries, in as many round trips). One flush at a time per partition is also
/// what the changelog needs: a flush's intent records are written only after the previous flush settled.
final class PartitionWorker: Sendable {
    /// Who changes the ledger.
    enum Planner: Sendable {
        /// The handler, with the records of a batch.
        case records
        /// The timer: due flushes and sweeps; nothing once the partition is being released.
        case timer
        /// The partition is about to go: everything is flushed; the timer changes nothing after it.
        case release
    }

    private struct Flow {
        var running = false
        /// A flush was asked for while one ran: plan again when it ends (everything, for a release).
        var again = false
        var releaseRequested = false
        var released = false
        var cancelled = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    let partition: Int32
    let ledger: Mutex<PartitionLedger>
    private let flow = Mutex(Flow())
    private let clock: @Sendable () -> Int64
    private let execute: @Sendable ([FlushPlan], PartitionWorker) async -> Void

    /// - Parameter execute: writes a group of plans (the engine's three steps) and finishes their inputs.
    init(ledger: PartitionLedger, clock: @escaping @Sendable () -> Int64, execute: @escaping @Sendable ([FlushPlan], PartitionWorker) async -> Void) {
        partition = ledger.partition
        self.ledger = Mutex(ledger)
        self.clock = clock
        self.execute = execute
    }

    /// Applies `change` to the ledger, then flushes what is due (everything, for a release) unless a flush is
    /// running, in which case that flush's end plans the next.
    func update(by planner: Planner, _ change: (inout PartitionLedger) -> Void) {
        ledger.withLock { ledger in
            let proceed = flow.withLock { flow -> Bool in
                guard !flow.cancelled, !(planner == .timer && flow.released) else { return false }
                if planner == .release {
                    flow.released = true
                    flow.releaseRequested = true
                }
                return true
            }
            guard proceed else { return }
            change(&ledger)
            let start = flow.withLock { flow -> Bool in
                if flow.running {
                    flow.again = true
                    return false
                }
                flow.running = true
                return true
            }
            guard start else { return }
            guard let plans = plan(&ledger) else { return }
            Task { await drive(plans) }
        }
    }

    /// The next group under the ledger's lock, or nil (and not running any more) when nothing is due.
    private func plan(_ ledger: inout PartitionLedger) -> [FlushPlan]? {
        let everything = flow.withLock { flow -> Bool in
            defer {
                flow.releaseRequested = false
                flow.again = false
            }
            return flow.releaseRequested
        }
        let plans = everything ? ledger.flushAll(now: clock()) : ledger.dueFlushes(now: clock())
        guard plans.isEmpty else { return plans }
        finishRunning()
        return nil
    }

    private func drive(_ first: [FlushPlan]) async {
        var plans = first
        while true {
            if !isCancelled { await execute(plans, self) }
            let next = ledger.withLock { ledger -> [FlushPlan]? in
                let proceed = flow.withLock { flow in !flow.cancelled && (flow.again || flow.releaseRequested) }
                guard proceed else {
                    finishRunning()
                    return nil
                }
                return plan(&ledger)
            }
            guard let next else { return }
            plans = next
        }
    }

    private func finishRunning() {
        let waiters = flow.withLock { flow in
            flow.running = false
            defer { flow.waiters = [] }
            return flow.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Stops planning and executing: the partition is gone. A flush in flight stops between its steps.
    func cancel() {
        flow.withLock { $0.cancelled = true }
    }

    var isCancelled: Bool { flow.withLock { $0.cancelled } }

    /// Waits until no flush is running (returns at once when none is).
    func drained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = flow.withLock { flow -> Bool in
                if !flow.running { return true }
                flow.waiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }
}
