import Kafka
import Observability
import Runtime
import Synchronization

/// Samples the consumer's lag every few seconds into `cohortsync_consumer_lag{topic,partition}`, the signal
/// the alert rules and an autoscaler read. A partition this member gave up is set to 0, so the sum over
/// replicas counts each partition once, at its current owner.
public final class ConsumerLagReporter: Service {
    public let name = "consumer-lag"
    private let consumer: KafkaConsumer
    private let metrics: MetricsRegistry
    private let interval: Duration
    private let stopped = Atomic(false)

    public init(consumer: KafkaConsumer, metrics: MetricsRegistry, interval: Duration = .seconds(5)) {
        self.consumer = consumer
        self.metrics = metrics
        self.interval = interval
    }

    public func run() async throws {
        var reported: Set<TopicPartition> = []
        while !stopped.load(ordering: .acquiring) {
            let lags = await consumer.lag()
            for (partition, lag) in lags { gauge(partition).set(Double(lag)) }
            for partition in reported.subtracting(lags.keys) { gauge(partition).set(0) }
            reported = Set(lags.keys)
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    public func shutdown() async {
        stopped.store(true, ordering: .releasing)
    }

    private func gauge(_ partition: TopicPartition) -> Gauge {
        metrics.gauge(
            "cohortsync_consumer_lag", help: "Records in the partition beyond this member's position, sampled every few seconds.",
            labels: ["topic": partition.topic, "partition": String(partition.partition)])
    }
}
