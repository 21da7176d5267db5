/// Settings of one consumer-group member.
public struct KafkaConsumerConfiguration: Sendable {
    /// Consumer group id (`group.id`); every replica of a stage uses the same one.
    public var groupID: String
    /// Topics to subscribe to.
    public var topics: [String]
    /// librdkafka properties (broker list, TLS/SASL, tuning) from `KafkaConfiguration.fromEnvironment`.
    public var kafka: KafkaConfiguration
    /// Records handed out and not yet taken by the processing loop above which the poll thread holds off
    /// (back-pressure) until half of them are taken.
    public var maxBufferedRecords: Int
    /// The most records one poll hands out as one batch (fewer when the buffer is nearly full).
    public var maxBatchRecords: Int
    /// How long the poll thread may hold off polling for a reader that is behind. Past it the assigned
    /// partitions are paused and polling goes on, so rebalances are served and `max.poll.interval.ms` is
    /// never exceeded, however slow the handler. Keep it well below both.
    public var maxPollHold: Duration
    /// How long a rebalance waits for the member to finish revoked partitions before it takes them anyway.
    /// Keep it below the group's `max.poll.interval.ms`.
    public var revocationTimeout: Duration
    /// Where these partitions start when first assigned to this member, whatever the group committed: for
    /// tools and tests that read from a known point (`KafkaAdmin.endOffsets`). The start is stored as the
    /// partition's offset, so a later assignment resumes from it or from what was stored after. Partitions not
    /// listed start as usual.
    public var startOffsets: [TopicPartition: Int64] = [:]
    /// Whether newly assigned partitions start paused until the reader releases them
    /// (`KafkaConsumer.releaseAssignment(_:)`): a reader with work to do before their records (a stage
    /// restoring its state) has none fetched and buffered meanwhile, and a caught-up partition is not fetched
    /// over and over while it waits.
    public var pausesNewAssignments = false
    /// How long to pause fetching a partition after a fetch of it came back empty at its end; nil (the
    /// default) never pauses.
    ///
    /// For a broker that answers an empty fetch at once instead of holding it for `fetch.wait.max.ms` (the
    /// local development broker): librdkafka fetches again as soon as an answer comes, so a member that has
    /// caught up fetches in a tight loop, costing it and the broker a core between them. Pausing for a few tens
    /// of milliseconds at a time frees that CPU for the stages with work, at up to that much added latency per
    /// stage. Apache Kafka holds an empty fetch, so production needs none.
    public var idleFetchPause: Duration?

    public init(
        groupID: String, topics: [String], kafka: KafkaConfiguration, maxBufferedRecords: Int = 10_000,
        maxBatchRecords: Int = 1_000, maxPollHold: Duration = .seconds(1), revocationTimeout: Duration = .seconds(30)
    ) {
        self.groupID = groupID
        self.topics = topics
        self.kafka = kafka
        self.maxBufferedRecords = maxBufferedRecords
        self.maxBatchRecords = maxBatchRecords
        self.maxPollHold = maxPollHold
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
