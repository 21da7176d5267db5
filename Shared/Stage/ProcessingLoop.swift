import Kafka
import Observability
import Synchronization

/// Runs a stage's record handler over a consumer with at-least-once offset handling.
///
/// For each record the handler returns the deliveries it produced; the record's offset becomes storable
/// once all of them are acknowledged and every earlier record of its partition is done too. On revocation
/// the loop waits for the revoked partitions' deliveries, stores their offsets and lets the rebalance go on.
/// On `stop()` it stops taking records, waits for in-flight deliveries, stores, and closes the consumer.
/// A failed delivery or handler error ends `run` with that error and stores nothing past it, so the
/// records are processed again after restart.
public final class ProcessingLoop: Sendable {
    /// Handles one record; returns what it produced for it (empty when it produced nothing).
    public typealias Handler = @Sendable (ConsumerRecord) async throws -> [PendingDelivery]

    /// Reactions to assignment changes, awaited in order with the records.
    public struct PartitionHooks: Sendable {
        /// Runs before any record of the newly assigned partitions is handled (the batcher restores its state here).
        public var assigned: @Sendable ([TopicPartition]) async throws -> Void
        /// Runs after the revoked partitions' work is finished and their offsets stored, before they are released.
        public var revoked: @Sendable ([TopicPartition]) async -> Void

        public init(
            assigned: @escaping @Sendable ([TopicPartition]) async throws -> Void = { _ in },
            revoked: @escaping @Sendable ([TopicPartition]) async -> Void = { _ in }
        ) {
            self.assigned = assigned
            self.revoked = revoked
        }
    }

    private let consumer: KafkaConsumer
    private let logger: Logger
    private let drainTimeout: Duration
    private let revocationTimeout: Duration
    private let tracker = Mutex(OffsetTracker())
    private let deliveryFailure = Mutex<KafkaError?>(nil)

    /// - Parameters:
    ///   - drainTimeout: how long shutdown waits for in-flight deliveries before it gives up on them.
    ///   - revocationTimeout: how long a rebalance waits for the revoked partitions' in-flight deliveries;
    ///     keep it below the consumer's own `revocationTimeout`.
    public init(consumer: KafkaConsumer, logger: Logger, drainTimeout: Duration = .seconds(20), revocationTimeout: Duration = .seconds(20)) {
        self.consumer = consumer
        self.logger = logger
        self.drainTimeout = drainTimeout
        self.revocationTimeout = revocationTimeout
    }

    /// Asks `run` to finish: no new records are taken; in-flight work is finished and committed.
    public func stop() {
        consumer.endEvents()
    }

    /// Processes records until `stop()`; then drains, commits and closes the consumer.
    /// - Throws: the handler's error, a `KafkaError` `.delivery` for a record the broker did not take, or a fatal consumer error.
    public func run(hooks: PartitionHooks = PartitionHooks(), _ handler: Handler) async throws {
        do {
            for try await event in consumer.events {
                try throwIfDeliveryFailed()
                switch event {
                case .record(let record):
                    try await process(record, handler)
                case .assigned(let partitions):
                    try await hooks.assigned(partitions)
                case .revoked(let revocation):
                    if !revocation.lost {
                        await waitUntilFinished(revocation.partitions, timeout: revocationTimeout)
                    }
                    tracker.withLock { $0.forget(revocation.partitions) }
                    await hooks.revoked(revocation.partitions)
                    revocation.complete()
                }
            }
            await waitUntilFinished(nil, timeout: drainTimeout)
            try throwIfDeliveryFailed()
        } catch {
            consumer.endEvents()
            await consumer.close()
            throw error
        }
        await consumer.close()
    }

    private func process(_ record: ConsumerRecord, _ handler: Handler) async throws {
        let partition = record.topicPartition
        let offset = record.offset
        let start = tracker.withLock { $0.start(partition, offset: offset) }
        if start.rewound {
            logger.warning("records arrived again from an earlier offset; earlier ones in flight will not store theirs", [("partition", .string(partition.description))])
        }
        let generation = start.generation
        let deliveries = try await handler(record)
        guard !deliveries.isEmpty else {
            finished(partition, offset, generation)
            return
        }
        let remaining = Atomic(deliveries.count)
        for delivery in deliveries {
            delivery.whenComplete { [self] result in
                switch result {
                case .success:
                    if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                        finished(partition, offset, generation)
                    }
                case .failure(let error):
                    deliveryFailure.withLock { failure in
                        if failure == nil { failure = error }
                    }
                    // Stop taking records now rather than at the next one: nothing after this may be stored.
                    consumer.endEvents()
                }
            }
        }
    }

    private func finished(_ partition: TopicPartition, _ offset: Int64, _ generation: Int) {
        if let next = tracker.withLock({ $0.finish(partition, offset: offset, generation: generation) }) {
            consumer.store(partition, nextOffset: next)
        }
    }

    private func throwIfDeliveryFailed() throws {
        if let failure = deliveryFailure.withLock({ $0 }) {
            logger.error("a produced record was not acknowledged; stopping without storing its input offset", [("error", .string(failure.description))])
            throw failure
        }
    }

    /// Waits until the given partitions (nil: all) have no unfinished records, a delivery failed, or the timeout.
    private func waitUntilFinished(_ partitions: [TopicPartition]?, timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let unfinished = tracker.withLock { tracker in
                partitions.map { $0.reduce(0) { $0 + tracker.unfinishedCount($1) } } ?? tracker.totalUnfinished
            }
            let failed = deliveryFailure.withLock { $0 != nil }
            if unfinished == 0 || failed { return }
            do {
                try await Task.sleep(for: .milliseconds(5))
            } catch {
                return
            }
        }
        logger.warning("in-flight records did not finish in time; they will be processed again", [("timeout_seconds", .double(timeout.inSeconds))])
    }
}
