/// The partition counts and cleanup policies the internal topics are created with (DESIGN §2).
///
/// `members` and `hashed` must have the same partition count: normalize writes every derived record to
/// the partition index it read from, so snapshot markers stay in order with the members behind them.
public struct TopicLayout: Sendable, Equatable {
    /// Partitions of `members` and `hashed` (the unit of parallelism of normalize and the batcher).
    public var memberPartitions: Int32
    /// Partitions of each batches topic (the unit of parallelism of the uploaders).
    public var batchPartitions: Int32
    public var replicationFactor: Int32

    public init(memberPartitions: Int32 = 12, batchPartitions: Int32 = 6, replicationFactor: Int32 = -1) {
        self.memberPartitions = memberPartitions
        self.batchPartitions = batchPartitions
        self.replicationFactor = replicationFactor
    }

    /// One planned topic: name, partitions, and whether it is compacted.
    public struct Topic: Sendable, Equatable {
        public let name: String
        public let partitions: Int32
        public let compacted: Bool
    }

    /// Every internal topic. The batcher's changelog has one partition per `hashed` partition, the
    /// changelog being written at the same index as the input partition it belongs to.
    public var topics: [Topic] {
        [
            Topic(name: TopicNames.members, partitions: memberPartitions, compacted: false),
            Topic(name: TopicNames.hashed, partitions: memberPartitions, compacted: false),
            Topic(name: TopicNames.batcherState, partitions: memberPartitions, compacted: true),
            Topic(name: TopicNames.batchesX, partitions: batchPartitions, compacted: false),
            Topic(name: TopicNames.batchesTikTok, partitions: batchPartitions, compacted: false),
            Topic(name: TopicNames.results, partitions: batchPartitions, compacted: false),
            Topic(name: TopicNames.deadLetters, partitions: batchPartitions, compacted: false),
            Topic(name: TopicNames.audiences, partitions: 1, compacted: true),
        ]
    }

    /// Topics whose partition count must equal `members`'s.
    public static let alignedWithMembers: [String] = [TopicNames.hashed, TopicNames.batcherState]
}
