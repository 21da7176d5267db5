import CRdKafka
import Observability

/// librdkafka's in-process mock cluster, for fast tests of code that talks Kafka without a broker.
///
/// Point clients at `bootstrapServers`. It implements the Kafka protocol well enough for produce,
/// consume, groups and offsets; the integration tests use a real broker for everything else.
public final class KafkaMockCluster: Sendable {
    private let owner: RDKafkaClient
    private let cluster: MockClusterHandle
    /// The `bootstrap.servers` value that reaches the mock brokers.
    public let bootstrapServers: String

    /// Starts `brokers` mock brokers.
    /// - Throws: `KafkaError` `.clientCreation` when librdkafka cannot start them.
    public init(brokers: Int32 = 1) throws(KafkaError) {
        owner = try RDKafkaClient(
            kind: RD_KAFKA_PRODUCER, configuration: KafkaConfiguration(properties: [:]),
            context: RDKafkaClientContext(logger: Logger(stage: "kafka-mock", minimumLevel: .error)))
        guard let cluster = rd_kafka_mock_cluster_new(owner.handle, brokers) else {
            throw KafkaError(code: .clientCreation, message: "librdkafka could not start a mock cluster")
        }
        self.cluster = MockClusterHandle(pointer: cluster)
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    /// Creates a topic on the mock cluster.
    public func createTopic(_ name: String, partitions: Int32) throws(KafkaError) {
        let error = rd_kafka_mock_topic_create(cluster.pointer, name, partitions, 1)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdkafka(error, code: .admin, "mock topic '\(name)' not created")
        }
    }

    /// Makes the next `count` Produce requests fail with the broker error `code` (a Kafka protocol error
    /// code, such as 29 for TOPIC_AUTHORIZATION_FAILED), so tests can see a delivery fail.
    public func failNextProduceRequests(_ count: Int, code: Int32) {
        let errors = [rd_kafka_resp_err_t](repeating: rd_kafka_resp_err_t(rawValue: code), count: count)
        rd_kafka_mock_push_request_errors_array(cluster.pointer, 0, count, errors)
    }

    /// Delays every answer of `broker` (ids count from 1) by `delay`, so tests can hold produced records
    /// unacknowledged or make one broker slow.
    public func setRoundTripTime(_ delay: Duration, broker: Int32 = 1) {
        rd_kafka_mock_broker_set_rtt(cluster.pointer, broker, Int32(delay.inMilliseconds))
    }

    /// Moves the leadership of `topic`'s `partition` to `broker`, so tests can spread partitions over several brokers.
    public func setLeader(_ topic: String, partition: Int32, broker: Int32) {
        rd_kafka_mock_partition_set_leader(cluster.pointer, topic, partition, broker)
    }

    /// Makes `broker` the coordinator of consumer group `group`.
    public func setCoordinator(group: String, broker: Int32) {
        rd_kafka_mock_coordinator_set(cluster.pointer, "group", group, broker)
    }

    /// A configuration whose broker list is this cluster, with group and fetch timings shortened so
    /// tests spend their time on behaviour rather than on the mock's protocol waits.
    public var configuration: KafkaConfiguration {
        KafkaConfiguration(properties: [
            "bootstrap.servers": bootstrapServers,
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "500",
            "fetch.wait.max.ms": "20",
        ])
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster.pointer)
    }
}

/// The mock cluster pointer. `@unchecked Sendable` is sound: librdkafka's mock cluster runs its own
/// thread and its API may be called from any thread.
private struct MockClusterHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
