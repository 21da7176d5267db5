@testable import BatcherCore
import Config
import Foundation
import Synchronization
import Testing
import Wire

/// The per-partition flow: one flush in flight, the next planned from everything that became due meanwhile,
/// nothing after a cancel, nothing from the timer after the partition's last flush.
@Suite("Batcher partition worker")
struct PartitionWorkerTests {
    /// What the worker's executions saw: the users of each group's batches, and whether it saw the cancel.
    final class Recorder: Sendable {
        let groups = Mutex<[[String]]>([])
        let gate = Atomic(true)
        let entered = Atomic(0)

        func execute(_ plans: [FlushPlan], _ worker: PartitionWorker) async {
            entered.add(1, ordering: .releasing)
            while !gate.load(ordering: .acquiring) { await Task.yield() }
            let users = plans.flatMap { $0.batches.flatMap { $0.users.map(\.userKey) } }
            groups.withLock { $0.append(users + (worker.isCancelled ? ["cancelled"] : [])) }
        }
    }

    static func worker(_ recorder: Recorder) throws -> PartitionWorker {
        let config = try ConfigParser.parse(Data(LedgerConfigs.x(maxDelaySeconds: 1).utf8))
        // The clock is far ahead: whatever is pending is due at once.
        return PartitionWorker(
            ledger: PartitionLedger(partition: 0, config: config, recordBytes: 1_000_000, batchPrefix: "w"), clock: { LedgerHarness.start + 60_000 }
        ) { plans, worker in await recorder.execute(plans, worker) }
    }

    static func enter(_ user: String) -> (inout PartitionLedger) -> Void {
        { ledger in
            ledger.apply(
                .member(HashedMember(connectionID: "x-main", audienceID: "aud", userKey: user, action: .enter, identifiers: LedgerHarness.ids([(.email, 1)]))),
                trace: SourcePosition(), completion: nil, now: LedgerHarness.start)
        }
    }

    @Test("changes made while a flush is in flight go out together in the next one, in order")
    func groupCommit() async throws {
        let recorder = Recorder()
        recorder.gate.store(false, ordering: .releasing)
        let worker = try Self.worker(recorder)
        worker.update(by: .records, Self.enter("a"))
        for user in ["b", "c", "d"] { worker.update(by: .records, Self.enter(user)) }
        recorder.gate.store(true, ordering: .releasing)
        try await waitUntilGroups(recorder, count: 2)
        await worker.drained()
        #expect(recorder.groups.withLock { $0 } == [["a"], ["b", "c", "d"]])
    }

    @Test("a cancelled worker plans and executes nothing more; the flush in flight sees the cancel")
    func cancelStopsEverything() async throws {
        let recorder = Recorder()
        recorder.gate.store(false, ordering: .releasing)
        let worker = try Self.worker(recorder)
        worker.update(by: .records, Self.enter("running"))
        while recorder.entered.load(ordering: .acquiring) == 0 { await Task.yield() }
        worker.update(by: .records, Self.enter("queued"))
        worker.cancel()
        let changed = Atomic(false)
        worker.update(by: .records) { _ in changed.store(true, ordering: .relaxed) }
        recorder.gate.store(true, ordering: .releasing)
        await worker.drained()
        #expect(recorder.groups.withLock { $0 } == [["running", "cancelled"]])
        let changedAfterCancel = changed.load(ordering: .relaxed)
        #expect(!changedAfterCancel)
    }

    @Test("after the release flush the timer changes nothing; records still do")
    func timerStopsAtRelease() async throws {
        let recorder = Recorder()
        let worker = try Self.worker(recorder)
        worker.update(by: .release, Self.enter("released"))
        await worker.drained()
        let ticked = Atomic(false)
        worker.update(by: .timer) { _ in ticked.store(true, ordering: .relaxed) }
        worker.update(by: .records, Self.enter("late-record"))
        await worker.drained()
        #expect(recorder.groups.withLock { $0 } == [["released"], ["late-record"]])
        let tickedAfterRelease = ticked.load(ordering: .relaxed)
        #expect(!tickedAfterRelease)
    }

    func waitUntilGroups(_ recorder: Recorder, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while recorder.groups.withLock({ $0.count }) < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let executed = recorder.groups.withLock { $0 }
        try #require(executed.count >= count, "only \(executed) executed")
    }
}
