/// What a consumer-group member sees, in order: records and changes of its partition assignment.
public enum ConsumerEvent: Sendable {
    /// The records of one poll, in the order librdkafka fetched them (per partition, by offset).
    case records(ConsumerBatch)
    /// These partitions were assigned to this member; their records follow.
    case assigned([TopicPartition])
    /// These partitions are being taken away. Every record of them before this event has been delivered.
    /// Finish or abandon their in-flight work, store offsets, then call `complete()`: the rebalance waits for it.
    case revoked(PartitionRevocation)
}
