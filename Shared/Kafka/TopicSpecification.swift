/// A topic to create: name, partition count, replication and topic-level configuration.
public struct TopicSpecification: Sendable, Equatable {
    public var name: String
    public var partitions: Int32
    /// Replication factor; -1 lets the broker apply its default.
    public var replicationFactor: Int32
    /// Topic configuration, for example `cleanup.policy` → `compact`.
    public var configuration: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int32 = -1, configuration: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configuration = configuration
    }
}

/// What creating a topic did.
public enum TopicCreation: Sendable, Equatable {
    case created
    /// The topic was there already; its partition count may differ from the request, so check it.
    case alreadyExisted
}
