import Kafka
import Wire

/// `cohortsync topics create|check`: creates the internal topics with aligned partition counts, or
/// verifies an existing cluster before the stages start.
struct TopicsCommand {
    let admin: KafkaAdmin
    let layout: TopicLayout
    let print: @Sendable (String) -> Void

    /// Creates every missing topic; an existing topic is left alone and checked.
    /// - Returns: false when a topic exists with a partition count that breaks the alignment rule.
    func create() throws -> Bool {
        for topic in layout.topics {
            let specification = TopicSpecification(
                name: topic.name, partitions: topic.partitions, replicationFactor: layout.replicationFactor,
                configuration: topic.compacted ? ["cleanup.policy": "compact"] : [:])
            switch try admin.createTopic(specification) {
            case .created: print("created  \(topic.name) partitions=\(topic.partitions)\(topic.compacted ? " compacted" : "")")
            case .alreadyExisted: print("exists   \(topic.name)")
            }
        }
        return try check()
    }

    /// Prints each topic's partition count and whether `members`, `hashed` and the changelog line up.
    /// - Returns: true when every topic exists and the aligned ones match.
    func check() throws -> Bool {
        var healthy = true
        var counts: [String: Int] = [:]
        for topic in layout.topics {
            if let count = try admin.partitionCount(of: topic.name) {
                counts[topic.name] = count
                print("ok       \(topic.name) partitions=\(count)")
            } else {
                healthy = false
                print("missing  \(topic.name): run `cohortsync topics create`")
            }
        }
        if let members = counts[TopicNames.members] {
            for name in TopicLayout.alignedWithMembers {
                if let count = counts[name], count != members {
                    healthy = false
                    print("MISMATCH \(name) has \(count) partitions but \(TopicNames.members) has \(members); "
                        + "the stages refuse to start. Recreate \(name) with \(members) partitions.")
                }
            }
        }
        return healthy
    }
}
