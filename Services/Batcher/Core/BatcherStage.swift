import Foundation
import Kafka
import Observability
import Runtime
import Stage
import Wire

extension StageStartup {
    /// How long the batcher's timer may go without running before `/healthz` fails.
    static let timerStallLimit = Duration.seconds(60)

    /// Runs the batcher until SIGTERM: the processing loop over `cohortsync.hashed.v1` with the engine's
    /// restore, flush and release hooks, its timer, and the `/metrics` `/healthz` `/readyz` listener.
    /// Exits 0 after a graceful stop, 1 on a fatal error (the orchestrator restarts it; unflushed input is
    /// read again and the state restored from the changelog).
    public func runBatcher(metrics: MetricsRegistry, health: HealthState, engineSettings: BatcherEngine.Settings) async -> Never {
        let budget = ShutdownBudget(gracePeriod: settings.gracePeriod)
        do {
            let producer = try KafkaProducer(configuration: producerKafka, logger: logger)
            let engine = BatcherEngine(
                config: config, settings: engineSettings, producer: producer, kafka: kafka, logger: logger, metrics: BatcherMetrics(registry: metrics))
            var intake = consumerConfiguration(defaultGroup: "cohortsync-batcher", topics: [TopicNames.hashed])
            // Nothing of a partition is fetched while its ledger restores; the loop releases it after the restore.
            intake.pausesNewAssignments = true
            let consumer = try KafkaConsumer(configuration: intake, logger: logger)
            let loop = ProcessingLoop(consumer: consumer, logger: logger, limits: budget.limits())
            // Input stays open on purpose until the cadence says flush, so the loop's stall check does not
            // apply; a timer that stopped running does.
            health.addLivenessCheck { engine.timerRan(within: Self.timerStallLimit) }
            let hooks = ProcessingLoop.PartitionHooks(
                assigned: { partitions in
                    try await engine.assigned(partitions)
                    health.setReady(true)
                },
                releasing: { await engine.releasing($0) },
                revoked: { await engine.revoked($0) },
                abandoned: { await engine.revoked($0) })
            let service = ProcessingService(name: "batcher", loop: loop, hooks: hooks) { batch, completion in
                try await engine.handle(batch, completion)
            }
            let timer = BatcherTimer(engine: engine, interval: engineSettings.tickInterval)
            try await serve([timer, service], consumer: consumer, producer: producer, metrics: metrics, health: health)
        } catch {
            logger.error("batcher stopped", [("error", .string(String(describing: error)))])
            exit(1)
        }
    }
}
