import Foundation
import Kafka
import Observability
import Runtime
import Synchronization

extension StageStartup {
    /// How long a stage may sit on waiting work without any progress before `/healthz` fails: librdkafka's
    /// own delivery timeout (`message.timeout.ms`, 120 s by default).
    static let stallTimeout = Duration.seconds(120)

    /// Runs a consume-transform-produce stage until SIGTERM: the at-least-once processing loop, the
    /// `/metrics` `/healthz` `/readyz` listener, and per-stage counters of what was produced and how long each
    /// batch took (`cohortsync_<stage>_produced_total`, `cohortsync_<stage>_batch_seconds`).
    ///
    /// `transform` appends what the records of one poll yield to the batch's outputs, in order; it runs on
    /// the cooperative pool and must not block. Each batch's outputs are enqueued together and acknowledged
    /// by one completion. Exits 0 after a graceful stop, 1 on a fatal error (so the orchestrator restarts the pod
    /// and the uncommitted records are processed again).
    public func runConsumingStage(
        topics: [String], metrics: MetricsRegistry, health: HealthState,
        revoked: @escaping @Sendable ([TopicPartition]) -> Void = { _ in },
        transform: @escaping @Sendable (ConsumerBatch, inout OutgoingRecords) -> Void
    ) async -> Never {
        let stage = logger.stage
        let shutdownBudget = ShutdownBudget(gracePeriod: settings.gracePeriod)
        let produced = metrics.counter("cohortsync_\(stage)_produced_total", help: "Records written by this stage.")
        let latency = metrics.histogram(
            "cohortsync_\(stage)_batch_seconds", help: "Time from taking a batch of input records to having its outputs enqueued.")
        // Output buffers of finished batches, kept with their memory: one per batch running at once.
        let buffers = Mutex<[OutgoingRecords]>([])
        do {
            let producer = try KafkaProducer(configuration: producerKafka, logger: logger)
            let consumer = try KafkaConsumer(
                configuration: consumerConfiguration(defaultGroup: "cohortsync-\(stage)", topics: topics),
                logger: logger)
            let loop = ProcessingLoop(consumer: consumer, logger: logger, limits: shutdownBudget.limits())
            // Records wait and nothing moved for as long as librdkafka tries to deliver one: the stage is wedged.
            health.addLivenessCheck { !loop.isStalled(after: Self.stallTimeout) }
            let service = ProcessingService(
                name: stage, loop: loop,
                hooks: .init(assigned: { _ in health.setReady(true) }, revoked: { revoked($0) })
            ) { batch, completion in
                let started = ContinuousClock.now
                // librdkafka copies what it enqueues, so the buffer goes back to the pool for the next batch.
                var records = buffers.withLock { $0.popLast() } ?? OutgoingRecords()
                transform(batch, &records)
                try await producer.send(records, completion: completion)
                produced.increment(by: Int64(records.count))
                latency.observe((ContinuousClock.now - started).inSeconds)
                records.removeAll()
                buffers.withLock { $0.append(records) }
            }
            try await serve([service], consumer: consumer, producer: producer, metrics: metrics, health: health)
        } catch {
            logger.error("\(stage) stopped", [("error", .string(String(describing: error)))])
            exit(1)
        }
    }
}
