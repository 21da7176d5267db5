import Config
import Foundation
import Hashing
import Kafka
import Observability
import Stage
import Synchronization
import Wire

/// The batcher stage (DESIGN §3): keeps each owned partition's ledger, restores it from the changelog when
/// the partition is assigned, applies the hashed records, and flushes batches and changelog records when
/// they are due, when a partition goes and when the stage stops.
///
/// Input batches stay unfinished until every flush covering their records is acknowledged, so their offsets
/// are stored only then; a replica that takes a partition over restores the changelog and reads on from the
/// last stored offset, which lands it exactly where the previous owner's acknowledged work ended.
public final class BatcherEngine: Sendable {
    public struct Settings: Sendable {
        /// The largest record the stage writes (`--max-record-bytes`).
        public var recordBytes: Int
        /// How often due flushes are looked for.
        public var tickInterval: Duration
        /// X memberships sent longer ago than this are added again (X expires them after 13 months).
        public var refreshAfter: Duration
        /// How often the store is swept for X memberships to refresh.
        public var refreshSweepInterval: Duration

        public init(
            recordBytes: Int = RecordSizeLimit.defaultBytes, tickInterval: Duration = .milliseconds(250), refreshAfter: Duration = .seconds(365 * 86_400),
            refreshSweepInterval: Duration = .seconds(3_600)
        ) {
            self.recordBytes = recordBytes
            self.tickInterval = tickInterval
            self.refreshAfter = refreshAfter
            self.refreshSweepInterval = refreshSweepInterval
        }
    }

    private let config: CohortSyncConfig
    private let settings: Settings
    private let producer: KafkaProducer
    private let kafka: KafkaConfiguration
    private let logger: Logger
    private let metrics: BatcherMetrics
    private let clock: @Sendable () -> Int64
    private let workers = Mutex<[Int32: PartitionWorker]>([:])
    /// The first flush that failed: every later flush fails its input batches instead of writing, so no later
    /// audience state can confirm what the failed one wrote (the stage stops on that failure anyway).
    private let failure = Mutex<KafkaError?>(nil)
    private let lastTick = Mutex(ContinuousClock.now)
    private let lastSweep = Mutex<Int64?>(nil)

    /// - Parameter clock: milliseconds since the epoch; tests move it to cross cadence boundaries and expiries.
    public init(
        config: CohortSyncConfig, settings: Settings, producer: KafkaProducer, kafka: KafkaConfiguration, logger: Logger, metrics: BatcherMetrics,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000) }
    ) {
        self.config = config
        self.settings = settings
        self.producer = producer
        self.kafka = kafka
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
    }

    // MARK: Partition hooks

    /// Member changes pending in one partition beyond which the handler waits for the flush in flight
    /// (back-pressure on a slow broker).
    static let maxPendingPerPartition = 50_000

    /// Restores each newly assigned partition's ledger from its changelog partition (all read at once)
    /// before any of its records.
    public func assigned(_ partitions: [TopicPartition]) async throws {
        // A worker still there (a partition given back without its revocation reaching us) writes no more.
        let stale = workers.withLock { workers in partitions.compactMap { workers.removeValue(forKey: $0.partition) } }
        for worker in stale { worker.cancel() }
        _ = await Self.drained(stale, within: Self.stepLimit)
        let started = ContinuousClock.now
        var restoring: [Int32: PartitionWorker] = [:]
        for input in partitions {
            restoring[input.partition] = PartitionWorker(
                ledger: PartitionLedger(
                    partition: input.partition, config: config, recordBytes: settings.recordBytes, batchPrefix: "\(input.partition)-\(clock())"),
                clock: clock
            ) { [weak self] plans, worker in await self?.execute(plans, on: worker) }
        }
        let targets = restoring
        let unreadable = Mutex<[Int32: [Int64]]>([:])
        let changelogs = partitions.map { TopicPartition(topic: TopicNames.batcherState, partition: $0.partition) }
        let records = try await PartitionReader.readAll(changelogs, configuration: kafka, logger: logger) { changelog, entries in
            guard let worker = targets[changelog.partition] else { return }
            let skipped = worker.ledger.withLock { ledger in entries.filter { !ledger.restore($0) }.map(\.offset) }
            if !skipped.isEmpty { unreadable.withLock { $0[changelog.partition, default: []] += skipped } }
        }
        let seconds = (ContinuousClock.now - started).inSeconds
        metrics.restored(records: records.values.reduce(0, +), seconds: seconds)
        let now = clock()
        for (partition, worker) in restoring.sorted(by: { $0.key < $1.key }) {
            if let skipped = unreadable.withLock({ $0[partition] }) {
                logger.warning(
                    "changelog records that cannot be read were skipped; their members are sent again at their next change",
                    [("topic", .string(TopicNames.batcherState)), ("partition", .integer(Int(partition))), ("records", .integer(skipped.count)),
                     ("offsets", .string(skipped.prefix(10).map(String.init).joined(separator: ",")))])
            }
            let unconfigured = worker.ledger.withLock { $0.takeUnconfiguredSyncs() }.sorted { $0.key < $1.key }
            if !unconfigured.isEmpty {
                logger.warning(
                    "the changelog holds members of syncs the configuration no longer has: their destination audiences keep them and no consent withdrawal reaches them; configure each sync again, or retire it as docs/operations.md says",
                    [("partition", .integer(Int(partition))), ("syncs", .integer(unconfigured.count)),
                     ("members", .integer(unconfigured.reduce(0) { $0 + $1.value })),
                     ("first_syncs", .string(unconfigured.prefix(10).map(\.key).joined(separator: ",")))])
            }
            let reconciled = worker.ledger.withLock { $0.reconcileAfterRestore(now: now) }
            let members = worker.ledger.withLock { $0.members.reduce(0) { $0 + $1.count } }
            logger.info(
                "partition state restored",
                [("partition", .integer(Int(partition))),
                 ("changelog_records", .integer(records[TopicPartition(topic: TopicNames.batcherState, partition: partition)] ?? 0)),
                 ("members", .integer(members)), ("seconds", .double(seconds)), ("members_unconfirmed", .integer(reconciled.unconfirmed)),
                 ("members_with_unforwarded_kinds", .integer(reconciled.unforwarded))])
        }
        workers.withLock { workers in workers.merge(restoring) { $1 } }
    }

    /// Flushes what the partitions hold, so the loop can finish their input batches before they go; the
    /// timer plans nothing more for them.
    public func releasing(_ partitions: [TopicPartition]) async {
        for worker in selected(partitions) { worker.update(by: .release) { _ in } }
    }

    /// Forgets revoked or abandoned partitions, stopping what they still have queued or running between its
    /// steps; their next owner restores them from the changelog.
    public func revoked(_ partitions: [TopicPartition]) async {
        let gone = workers.withLock { workers in partitions.compactMap { workers.removeValue(forKey: $0.partition) } }
        for worker in gone { worker.cancel() }
        // A step already sent finishes before the partition goes, so the next owner's restore reads after it
        // (within a bound: a broker that stopped answering must not hold the rebalance for ever).
        if !(await Self.drained(gone, within: Self.stepLimit)) {
            logger.warning(
                "a flush step was still unacknowledged when its partitions went; the next owner resends what it may not have confirmed",
                [("partitions", .string(partitions.map(\.description).joined(separator: ",")))])
        }
        publishGauges()
    }

    // MARK: Records

    /// Applies one partition's batch: its records go into the ledger, and whatever is due is flushed.
    /// `completion` stays unfinished until the flushes covering these records are acknowledged.
    public func handle(_ batch: ConsumerBatch, _ completion: BatchCompletion) async throws {
        guard let first = batch.first else { return }
        guard let worker = workers.withLock({ $0[first.partition] }) else {
            throw KafkaError(code: .consumer, message: "records of \(first.topic)[\(first.partition)] arrived before its state was restored")
        }
        let now = clock()
        var letters = OutgoingRecords()
        var counts = PartitionLedger.Counts()
        worker.update(by: .records) { ledger in
            for record in batch {
                let trace = SourcePosition(topic: record.topic, partition: record.partition, offset: record.offset)
                // No payload in these letters: what does not decode as a hashed record may hold anything.
                do throws(WireError) {
                    if let refusal = ledger.apply(try HashedRecord(serializedBytes: record.value), trace: trace, completion: completion, now: now) {
                        letters.append(DeadLetter(stage: "batcher", reason: refusal.reason, source: trace, detail: refusal.detail, occurredAtMilliseconds: now))
                    }
                } catch {
                    letters.append(DeadLetter(stage: "batcher", reason: "undecodable", source: trace, detail: error.message, occurredAtMilliseconds: now))
                }
            }
            counts = ledger.takeCounts()
        }
        metrics.count(counts)
        metrics.took(records: batch.count)
        for hold in counts.held {
            logger.warning(
                "a snapshot would remove more than the sync's maxRemovalFraction; the removal is held until `cohortsync holds confirm` or `discard`",
                Self.holdFields(hold, partition: first.partition))
        }
        if !letters.isEmpty {
            metrics.deadLettered(letters.count)
            logger.warning(
                "records that are not valid hashed records were dead-lettered (cohortsync.dlq.v1 names each one and why)",
                [("partition", .integer(Int(first.partition))), ("records", .integer(letters.count))])
            try await producer.send(letters, completion: completion)
        }
        // A broker slower than the records: the next batch waits for the flush in flight.
        if worker.ledger.withLock({ $0.pendingCount }) > Self.maxPendingPerPartition { await worker.drained() }
    }

    // MARK: Timer

    /// Flushes what is due in every owned partition, sweeps for X memberships to refresh (and consent
    /// withdrawals to forget) when it is time, and updates the gauges.
    public func tick() {
        let now = clock()
        lastTick.withLock { $0 = ContinuousClock.now }
        // After a failed flush nothing more is planned: the stage is stopping on it.
        guard failure.withLock({ $0 == nil }) else { return }
        let sweep = lastSweep.withLock { last -> Bool in
            guard last.map({ now - $0 >= Self.milliseconds(settings.refreshSweepInterval) }) ?? true else { return false }
            last = now
            return true
        }
        let cutoff = now - Self.milliseconds(settings.refreshAfter)
        for worker in selected(nil) {
            var refreshed = 0
            worker.update(by: .timer) { ledger in
                guard sweep else { return }
                refreshed = ledger.refreshX(sentBefore: cutoff, now: now)
                ledger.pruneWithdrawals(now: now)
            }
            metrics.refreshedMembers(refreshed)
        }
        publishGauges()
    }

    /// Whether the timer ran within `limit`: the liveness of a stage that holds input open on purpose.
    public func timerRan(within limit: Duration) -> Bool {
        ContinuousClock.now - lastTick.withLock { $0 } < limit
    }

    // MARK: Helpers

    /// How long a partition that goes waits for its flush step in flight.
    static let stepLimit = Duration.seconds(10)

    /// Waits until `workers` run no flush, or `limit` passed; returns whether they finished.
    static func drained(_ workers: [PartitionWorker], within limit: Duration) async -> Bool {
        let outcome = FirstOutcome()
        return await withCheckedContinuation { continuation in
            outcome.install(continuation)
            Task {
                for worker in workers { await worker.drained() }
                outcome.resume(true)
            }
            Task {
                try? await Task.sleep(for: limit)
                outcome.resume(false)
            }
        }
    }

    /// Whole milliseconds of `duration`, without `inMilliseconds`'s 32-bit range (a year overflows it).
    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    private func selected(_ partitions: [TopicPartition]?) -> [PartitionWorker] {
        workers.withLock { workers in
            guard let partitions else { return Array(workers.values) }
            return partitions.compactMap { workers[$0.partition] }
        }
    }

    private func publishGauges() {
        let owned = selected(nil)
        var members: [(connectionID: String, audienceID: String, count: Int)] = []
        var holds: [AudienceState] = []
        var pending = 0
        var withdrawals = 0
        for worker in owned {
            worker.ledger.withLock { ledger in
                members += ledger.members
                holds += ledger.holds
                pending += ledger.pendingCount
                withdrawals += ledger.withdrawalCount
            }
        }
        metrics.update(members: members, holds: holds, pending: pending, withdrawals: withdrawals)
    }

    /// Writes the plans' intent records, batches and settling records, each step acknowledged before the
    /// next (see `FlushPlan`), then finishes the input batches they covered. A failed write fails those input
    /// batches, which stops the stage without storing their offsets, and every later flush fails likewise.
    /// A partition given up stops between steps and finishes nothing: the loop forgot its batches.
    private func execute(_ plans: [FlushPlan], on worker: PartitionWorker) async {
        if let failed = failure.withLock({ $0 }) {
            for plan in plans { for completion in plan.completions { completion.fail(failed) } }
            return
        }
        var out = OutgoingRecords()
        do throws(KafkaError) {
            for step in 0..<3 {
                guard !worker.isCancelled else { return }
                out.removeAll()
                for plan in plans {
                    switch step {
                    case 0: plan.encode(plan.intent, into: &out, partition: worker.partition)
                    case 1: plan.encodeBatches(into: &out)
                    default: plan.encode(plan.settle, into: &out, partition: worker.partition)
                    }
                }
                try await producer.deliver(out)
            }
        } catch {
            failure.withLock { $0 = $0 ?? error }
            logger.error(
                "a flush was not acknowledged; its input records will be processed again",
                [("partition", .integer(Int(worker.partition))), ("error", .string(error.description))])
            guard !worker.isCancelled else { return }
            for plan in plans { for completion in plan.completions { completion.fail(error) } }
            return
        }
        metrics.flushed(plans)
        for plan in plans { for completion in plan.completions { completion.release() } }
    }
}

extension BatcherEngine {
    /// What the log says of a held removal: the sync, the partition and the count, and the snapshot only as
    /// `snapshot_ref` (`sha256:` and 16 hex digits): its id is upstream text, which may hold an address.
    static func holdFields(_ hold: AudienceState, partition: Int32) -> [(String, LogValue)] {
        [
            ("connection", .string(hold.connectionID)), ("audience", .string(hold.audienceID)),
            ("snapshot_ref", .string(SHA256Digest.logReference(hold.heldSnapshotID))), ("partition", .integer(Int(partition))),
            ("removals", .integer(Int(hold.heldRemovals))),
        ]
    }
}
