import Kafka
import Observability
import Runtime
import Synchronization

/// Samples the consumer's lag every few seconds into `cohortsync_consumer_lag{topic,partition}`, the signal
/// the alert rules and the dashboard read (KEDA asks Kafka itself, the same way). A partition this member
/// gave up is set to 0, so the sum over replicas counts each partition once, at its current owner; a sample
/// that fails keeps the last values and counts `cohortsync_consumer_lag_sample_failures_total`.
public final class ConsumerLagReporter: Service {
    public let name = "consumer-lag"
    private let consumer: KafkaConsumer
    private let metrics: MetricsRegistry
    private let interval: Duration
    private let failures: Counter
    private let stopped = Atomic(false)
    /// How often a wait between samples looks at `stopped`, so a stop never waits out the interval.
    private static let stopCheck = Duration.milliseconds(100)

    public init(consumer: KafkaConsumer, metrics: MetricsRegistry, interval: Duration = .seconds(5)) {
        self.consumer = consumer
        self.metrics = metrics
        self.interval = interval
        failures = metrics.counter(
            "cohortsync_consumer_lag_sample_failures_total", help: "Lag samples that failed (committed offsets unreadable); the gauge kept its values.")
    }

    public func run() async throws {
        var reported: Set<TopicPartition> = []
        while !stopped.load(ordering: .acquiring) {
            do {
                let sample = try await consumer.lag(timeout: .seconds(1))
                for (partition, lag) in sample.lags { gauge(partition).set(Double(lag)) }
                for partition in reported.subtracting(sample.assigned) { gauge(partition).set(0) }
                reported = reported.intersection(sample.assigned).union(sample.lags.keys)
            } catch {
                failures.increment()
            }
            let next = ContinuousClock.now + interval
            while ContinuousClock.now < next, !stopped.load(ordering: .acquiring) {
                do {
                    try await Task.sleep(for: Self.stopCheck)
                } catch {
                    return
                }
            }
        }
    }

    public func shutdown() async {
        stopped.store(true, ordering: .releasing)
    }

    private func gauge(_ partition: TopicPartition) -> Gauge {
        metrics.gauge(
            "cohortsync_consumer_lag", help: "Records in the partition beyond the group's committed offset, sampled every few seconds.",
            labels: ["topic": partition.topic, "partition": String(partition.partition)])
    }
}
