import Kafka
import Observability
import Synchronization

/// Runs a stage's batch handler over a consumer with at-least-once offset handling.
///
/// Each poll's records are split by partition; the handler gets one partition's records at a time as a
/// `ConsumerBatch` with the `BatchCompletion` that stands for all the work done for them. The batch's
/// offsets become storable once that completion reports success and every earlier batch of the partition
/// finished too: offsets are stored once per partition per batch. Handlers of different partitions run
/// concurrently up to `maxConcurrentBatches`; those of one partition run one after another, in order.
///
/// On revocation the loop lets the revoked partitions' handlers return, waits for their completions,
/// stores their offsets and lets the rebalance go on. On `stop()` nothing more is handed out; running
/// handlers and outstanding completions get `drainTimeout` (handlers still running then are cancelled), and
/// the consumer closes within `closeTimeout`. A failed completion or handler error ends `run` with that
/// error and stores nothing at or past its batch, so those records are processed again after restart.
public final class ProcessingLoop: Sendable {
    /// Handles the records of one partition from one poll.
    ///
    /// `completion` holds one count for the call itself, released when the handler returns normally.
    /// Produce with `KafkaProducer.send(_:completion:)`; to finish the batch later (a batcher flushing at its
    /// cadence) `hold()` a count before returning and `release()` it then. A thrown error ends the loop.
    /// Handlers must honour task cancellation: a stop cancels those still running at the drain deadline.
    public typealias Handler = @Sendable (ConsumerBatch, BatchCompletion) async throws -> Void

    /// Reactions to assignment changes, awaited in order with the records.
    public struct PartitionHooks: Sendable {
        /// Runs before any record of the newly assigned partitions is handled (the batcher restores its state here).
        public var assigned: @Sendable ([TopicPartition]) async throws -> Void
        /// Runs when a revocation arrives, once the revoked partitions' handlers returned and before the loop
        /// waits for their completions, with whether the partitions were lost (already someone else's). It
        /// returns those whose unfinished batches the stage gives back: it stopped their work and writes nothing
        /// more for them. The loop then stores nothing more of them and does not wait for their completions;
        /// their next owner handles those records again. A stage whose work may wait for minutes (an uploader
        /// retrying, or paused on a refused credential) uses it so a rebalance never waits that long.
        public var revoking: @Sendable ([TopicPartition], _ lost: Bool) async -> [TopicPartition]
        /// Runs when partitions are about to go, once their handlers returned and before the loop waits for
        /// their completions: at a revocation with its partitions (not a lost one), at a clean stop with the
        /// partitions still assigned. A stage that holds completions open on purpose (the batcher, until its
        /// flush) starts finishing them here; the loop then waits for them within its limits.
        public var releasing: @Sendable ([TopicPartition]) async -> Void
        /// Runs after the revoked partitions' work is finished and their offsets stored, before they are released;
        /// not when the loop is stopping before that work finished (then `abandoned` runs).
        public var revoked: @Sendable ([TopicPartition]) async -> Void
        /// Runs when partitions go without a finished revocation: one that arrives while the loop stops, and
        /// at a stop (or when the loop ends on an error) every partition still assigned, once the drain is over,
        /// before the consumer leaves; once per partition. The stage must write nothing more for them; their
        /// next owner reads their unfinished records again.
        public var abandoned: @Sendable ([TopicPartition]) async -> Void

        public init(
            assigned: @escaping @Sendable ([TopicPartition]) async throws -> Void = { _ in },
            revoking: @escaping @Sendable ([TopicPartition], _ lost: Bool) async -> [TopicPartition] = { _, _ in [] },
            releasing: @escaping @Sendable ([TopicPartition]) async -> Void = { _ in },
            revoked: @escaping @Sendable ([TopicPartition]) async -> Void = { _ in },
            abandoned: @escaping @Sendable ([TopicPartition]) async -> Void = { _ in }
        ) {
            self.assigned = assigned
            self.revoking = revoking
            self.releasing = releasing
            self.revoked = revoked
            self.abandoned = abandoned
        }
    }

    /// How long each part of a stop or a revocation may take, and how many batches run at once.
    public struct Limits: Sendable, Equatable {
        /// How long a stop waits for running handlers and outstanding completions.
        public var drainTimeout: Duration
        /// How long a rebalance waits for the revoked partitions' outstanding completions; keep it below
        /// the consumer's own `revocationTimeout`.
        public var revocationTimeout: Duration
        /// How long leaving the group may take after the drain; nil: as long as librdkafka needs.
        public var closeTimeout: Duration?
        /// Handlers running at once, each for a different partition.
        public var maxConcurrentBatches: Int

        public init(
            drainTimeout: Duration = .seconds(20), revocationTimeout: Duration = .seconds(20), closeTimeout: Duration? = nil,
            maxConcurrentBatches: Int = 1
        ) {
            self.drainTimeout = drainTimeout
            self.revocationTimeout = revocationTimeout
            self.closeTimeout = closeTimeout
            self.maxConcurrentBatches = max(maxConcurrentBatches, 1)
        }
    }

    private let consumer: KafkaConsumer
    private let logger: Logger
    private let limits: Limits
    private let tracker = Mutex(OffsetTracker())
    private let failure = Mutex<KafkaError?>(nil)
    /// Whether the end of `run` already gave every partition up (`abandoned`), so an error after it does not again.
    private let abandonedAll = Mutex(false)
    /// When a handler last started or returned, or a batch last finished.
    private let lastProgress = Mutex(ContinuousClock.now)

    public init(consumer: KafkaConsumer, logger: Logger, limits: Limits = Limits()) {
        self.consumer = consumer
        self.logger = logger
        self.limits = limits
    }

    /// Whether work waits (records buffered, batches started and unfinished) while nothing moved for `limit`:
    /// a wedged handler or a broker that stopped acknowledging. The stage reports itself not live then, so
    /// the orchestrator restarts it and the uncommitted records are processed again. A stage that holds
    /// completions open on purpose (the batcher, until its flush) must judge its liveness otherwise.
    public func isStalled(after limit: Duration) -> Bool {
        let waiting = consumer.bufferedRecords > 0 || tracker.withLock { $0.totalUnfinished } > 0
        return waiting && ContinuousClock.now - lastProgress.withLock({ $0 }) > limit
    }

    private func progressed() {
        let now = ContinuousClock.now
        lastProgress.withLock { $0 = now }
    }

    /// Asks `run` to finish: nothing more is handed out; in-flight work is finished and committed.
    public func stop() {
        consumer.endEvents()
    }

    /// What a child task of `run` reports when it ends.
    private enum ChildEnd: Sendable {
        /// A handler returned for this partition.
        case handler(TopicPartition)
        /// The events ended (a stop, a failure): wherever the loop waits, it turns to draining.
        case eventsEnded
        /// The drain budget is spent.
        case drainDeadline
    }

    /// Processes records until `stop()`; then drains, commits and closes the consumer.
    /// - Throws: the handler's error, a `KafkaError` `.delivery` for a record the broker did not take, or a fatal consumer error.
    public func run(hooks: PartitionHooks = PartitionHooks(), _ handler: @escaping Handler) async throws {
        try await withThrowingTaskGroup(of: ChildEnd.self) { group in
            do {
                try await process(&group, hooks, handler)
            } catch {
                // Commit and leave the group before the task group waits for its children: a handler that is
                // slow to notice the cancellation must not hold up the commit. The stage first stops writing for
                // the partitions it still has, whose next owner reads their unfinished records again.
                consumer.endEvents()
                if !abandonedAll.withLock({ $0 }) {
                    let assignment = consumer.assignment
                    tracker.withLock { $0.forget(assignment) }
                    await hooks.abandoned(assignment)
                }
                await consumer.close(timeout: limits.closeTimeout)
                group.cancelAll()
                throw error
            }
        }
    }

    /// The body of `run`: hands out batches until the events end, then drains, commits and leaves the group.
    private func process(_ group: inout ThrowingTaskGroup<ChildEnd, any Error>, _ hooks: PartitionHooks, _ handler: @escaping Handler) async throws {
        var running: Set<TopicPartition> = []
        var ended = false
        group.addTask { [consumer] in
            await consumer.waitForEventsToEnd()
            return .eventsEnded
        }
        /// Waits for a handler to return or the events to end; rethrows a handler's error.
        func reapOne() async throws {
            switch try await group.next() {
            case .handler(let partition)?: running.remove(partition)
            case .eventsEnded?: ended = true
            case .drainDeadline?, nil: break
            }
        }
        events: for try await event in consumer.events {
            if let failure = failure.withLock({ $0 }) {
                // A revocation just taken is this loop's to complete, or the rebalance waits out its timeout.
                if case .revoked(let revocation) = event { revocation.complete() }
                throw logged(failure)
            }
            switch event {
            case .records(let batch):
                for part in batch.byPartition() {
                    let partition = part[part.startIndex].topicPartition
                    while !ended, running.contains(partition) || running.count >= limits.maxConcurrentBatches {
                        try await reapOne()
                    }
                    // A stop while this batch waited its turn: it is left, like the records still queued.
                    if ended || consumer.eventsEnded { break events }
                    let completion = begin(part, partition)
                    running.insert(partition)
                    progressed()
                    group.addTask { [consumer] in
                        do {
                            try await handler(part, completion)
                        } catch {
                            // End the events now, not at the next poll: nothing after this batch may be stored.
                            consumer.endEvents()
                            throw error
                        }
                        completion.release()
                        self.progressed()
                        return .handler(partition)
                    }
                }
            case .assigned(let partitions):
                try await hooks.assigned(partitions)
                // A consumer that pauses new assignments fetched nothing of these while the hook ran; after a
                // stop they stay paused, as nothing more is handed out.
                if !consumer.eventsEnded { consumer.releaseAssignment(partitions) }
            case .revoked(let revocation):
                do {
                    while !ended, !running.isDisjoint(with: revocation.partitions) {
                        try await reapOne()
                    }
                } catch {
                    revocation.complete()
                    throw error
                }
                // The revoked partitions' handlers have returned, so nothing more is given to the stage for them.
                // What the stage gives back is forgotten now: a completion of it arriving later stores nothing.
                let givenBack = await hooks.revoking(revocation.partitions, revocation.lost)
                tracker.withLock { $0.forget(givenBack) }
                if !revocation.lost && !ended {
                    await hooks.releasing(revocation.partitions)
                    await waitUntilFinished(revocation.partitions, until: .now + limits.revocationTimeout, orEnd: true)
                }
                if ended {
                    // Stopping with the partitions' work unfinished: they go now, and their records are read
                    // again by their next owner. Nothing of theirs is stored from now on, and the stage forgets them.
                    tracker.withLock { $0.forget(revocation.partitions) }
                    await hooks.abandoned(revocation.partitions)
                    revocation.complete()
                    continue events
                }
                tracker.withLock { $0.forget(revocation.partitions) }
                await hooks.revoked(revocation.partitions)
                revocation.complete()
            }
        }
        // Stopped (or failed): from now, running handlers and outstanding deliveries share the drain budget.
        let deadline = ContinuousClock.now + limits.drainTimeout
        if !running.isEmpty {
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return .drainDeadline
            }
            drain: while !running.isEmpty {
                switch try await group.next() {
                case .handler(let partition)?:
                    running.remove(partition)
                case .eventsEnded?:
                    continue
                case .drainDeadline?, nil:
                    logger.warning(
                        "handlers still running at the drain deadline are cancelled; their records will be processed again",
                        [("handlers", .integer(running.count)), ("timeout_seconds", .double(limits.drainTimeout.inSeconds))])
                    group.cancelAll()
                    break drain
                }
            }
        }
        if failure.withLock({ $0 == nil }) && consumer.endError == nil { await hooks.releasing(consumer.assignment) }
        await waitUntilFinished(nil, until: deadline, orEnd: false)
        // What is unfinished now stays so: nothing more is stored, and the stage writes nothing more for these
        // partitions, whose next owner starts once this member has left.
        let assignment = consumer.assignment
        tracker.withLock { $0.forget(assignment) }
        await hooks.abandoned(assignment)
        abandonedAll.withLock { $0 = true }
        // Commit and leave the group before the task group waits for its children: a cancelled handler
        // that is slow to notice must not hold up the commit.
        await consumer.close(timeout: limits.closeTimeout)
        group.cancelAll()
        if let failure = failure.withLock({ $0 }) { throw logged(failure) }
        // Events that ended on a fatal consumer error are no clean stop, wherever the loop noticed the end.
        if let fatal = consumer.endError { throw fatal }
    }

    /// Registers a partition's batch with the offset tracker and makes the completion that finishes it.
    private func begin(_ batch: ConsumerBatch, _ partition: TopicPartition) -> BatchCompletion {
        let last = batch[batch.endIndex - 1].offset
        let start = tracker.withLock { $0.start(partition, first: batch[batch.startIndex].offset, last: last) }
        if start.rewound {
            logger.warning("records arrived again from an earlier offset; earlier ones in flight will not store theirs", [("partition", .string(partition.description))])
        }
        let generation = start.generation
        return BatchCompletion { [self] result in
            switch result {
            case .success:
                progressed()
                // Stored under the tracker's lock: two batches of a partition finishing at once on two threads
                // store in order, and a revocation that sees the partition finished sees its offset stored.
                tracker.withLock { tracker in
                    if let next = tracker.finish(partition, offset: last, generation: generation) {
                        consumer.store(partition, nextOffset: next)
                    }
                }
            case .failure(let error):
                failure.withLock { failure in
                    if failure == nil { failure = error }
                }
                // Stop handing out records now rather than at the next one: nothing after this may be stored.
                consumer.endEvents()
            }
        }
    }

    /// `failure`, logged once where the loop gives up because of it.
    private func logged(_ failure: KafkaError) -> KafkaError {
        logger.error("a produced record was not acknowledged; stopping without storing its input offset", [("error", .string(failure.description))])
        return failure
    }

    /// Waits until the given partitions (nil: all) have no unfinished batches, a completion failed, the
    /// deadline passed, the task was cancelled, or (with `orEnd`) the events ended.
    private func waitUntilFinished(_ partitions: [TopicPartition]?, until deadline: ContinuousClock.Instant, orEnd: Bool) async {
        while true {
            let unfinished = tracker.withLock { tracker in
                partitions.map { $0.reduce(0) { $0 + tracker.unfinishedCount($1) } } ?? tracker.totalUnfinished
            }
            if unfinished == 0 || failure.withLock({ $0 != nil }) || (orEnd && consumer.eventsEnded) { return }
            guard ContinuousClock.now < deadline else { break }
            do {
                try await Task.sleep(for: .milliseconds(5))
            } catch {
                return
            }
        }
        logger.warning("in-flight records did not finish in time; they will be processed again", [("batches_left", .integer(tracker.withLock { $0.totalUnfinished }))])
    }
}
