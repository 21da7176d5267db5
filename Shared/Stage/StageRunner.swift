import Foundation
import Kafka
import Observability
import Runtime

extension StageStartup {
    /// Runs a consume-transform-produce stage until SIGTERM: the at-least-once processing loop, the
    /// `/metrics` `/healthz` `/readyz` listener, and per-stage counters of what was produced and how long each
    /// record took (`cohortsync_<stage>_produced_total`, `cohortsync_<stage>_processing_seconds`).
    ///
    /// `transform` maps one input record to the records to produce for it; it runs on the cooperative pool
    /// and must not block. Exits 0 after a graceful stop, 1 on a fatal error (so the orchestrator restarts
    /// the pod and the uncommitted records are processed again).
    public func runConsumingStage(
        topics: [String], metrics: MetricsRegistry, health: HealthState,
        revoked: @escaping @Sendable ([TopicPartition]) -> Void = { _ in },
        transform: @escaping @Sendable (ConsumerRecord) -> [ProducerRecord]
    ) async -> Never {
        let stage = logger.stage
        let shutdownBudget = ShutdownBudget(gracePeriod: settings.gracePeriod)
        let produced = metrics.counter("cohortsync_\(stage)_produced_total", help: "Records written by this stage.")
        let latency = metrics.histogram("cohortsync_\(stage)_processing_seconds", help: "Time from reading a record to handing its output to the producer.")
        do {
            let producer = try KafkaProducer(configuration: producerKafka, logger: logger)
            let consumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(groupID: options.string("group") ?? "cohortsync-\(stage)", topics: topics, kafka: kafka),
                logger: logger)
            let service = ProcessingService(
                name: stage, loop: ProcessingLoop(consumer: consumer, logger: logger, drainTimeout: shutdownBudget.drain),
                hooks: .init(assigned: { _ in health.setReady(true) }, revoked: { revoked($0) })
            ) { record in
                let started = ContinuousClock.now
                let records = transform(record)
                let deliveries = try await producer.sendAll(records)
                produced.increment(by: Int64(records.count))
                let elapsed = ContinuousClock.now - started
                latency.observe(elapsed.inSeconds)
                return deliveries
            }
            let http = ObservabilityServer.service(host: settings.httpHost, port: settings.httpPort, metrics: metrics, health: health, logger: logger)
            try await ServiceGroup(services: [http, service], gracePeriod: settings.gracePeriod, logger: logger).run()
            try await producer.shutdown(timeout: shutdownBudget.producerFlush)
            exit(0)
        } catch {
            logger.error("\(stage) stopped", [("error", .string(String(describing: error)))])
            exit(1)
        }
    }
}
