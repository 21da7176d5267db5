/// Settings of one consumer-group member.
public struct KafkaConsumerConfiguration: Sendable {
    /// Consumer group id (`group.id`); every replica of a stage uses the same one.
    public var groupID: String
    /// Topics to subscribe to.
    public var topics: [String]
    /// librdkafka properties (broker list, TLS/SASL, tuning) from `KafkaConfiguration.fromEnvironment`.
    public var kafka: KafkaConfiguration
    /// Records handed out and not yet taken by the processing loop above which polling waits (back-pressure).
    public var maxBufferedRecords: Int
    /// How long a rebalance waits for the member to finish revoked partitions before it takes them anyway.
    /// Keep it below the group's `max.poll.interval.ms`.
    public var revocationTimeout: Duration

    public init(
        groupID: String, topics: [String], kafka: KafkaConfiguration, maxBufferedRecords: Int = 10_000,
        revocationTimeout: Duration = .seconds(30)
    ) {
        self.groupID = groupID
        self.topics = topics
        self.kafka = kafka
        self.maxBufferedRecords = maxBufferedRecords
        self.revocationTimeout = revocationTimeout
    }

    /// Defaults a configuration may override.
    static let defaults = [
        "auto.offset.reset": "earliest",
        "enable.auto.commit": "true",
        "auto.commit.interval.ms": "1000",
        "enable.partition.eof": "false",
    ]
}
