import Foundation
import Kafka
import Observability
import Runtime

extension StageStartup {
    /// The end every stage shares: `services` run beside the `/metrics` `/healthz` `/readyz` listener and the
    /// sampling of `consumer`'s lag until SIGTERM, then `producer` flushes within its share of the shutdown
    /// budget and the process exits 0.
    /// - Throws: what a service or the flush throws; the caller logs it and exits 1.
    public func serve(
        _ services: [any Service], consumer: KafkaConsumer, producer: KafkaProducer, metrics: MetricsRegistry, health: HealthState
    ) async throws -> Never {
        let http = ObservabilityServer.service(host: settings.httpHost, port: settings.httpPort, metrics: metrics, health: health, logger: logger)
        let lag = ConsumerLagReporter(consumer: consumer, metrics: metrics)
        try await ServiceGroup(services: [http, lag] + services, gracePeriod: settings.gracePeriod, logger: logger).run()
        try await producer.shutdown(timeout: ShutdownBudget(gracePeriod: settings.gracePeriod).producerFlush)
        exit(0)
    }
}
