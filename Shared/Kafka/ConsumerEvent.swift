/// What a consumer-group member sees, in order: records and changes of its partition assignment.
public enum ConsumerEvent: Sendable {
    /// A record to process.
    case record(ConsumerRecord)
    /// These partitions were assigned to this member; their records follow.
    case assigned([TopicPartition])
    /// These partitions are being taken away. Every record of them before this event has been delivered.
    /// Finish or abandon their in-flight work, store offsets, then call `complete()`: the rebalance waits for it.
    case revoked(PartitionRevocation)
}
