import Kafka
import Wire

/// `cohortsync topics create|check|delete`: creates the internal topics with aligned partition counts,
/// verifies an existing cluster before the stages start, or deletes topics that are not the pipeline's own.
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

    /// Deletes `names`, refusing the pipeline's own topics (every name `TopicNames` holds starts `cohortsync.`):
    /// deleting one loses the batcher's state or records in flight, which only the Kafka cluster's own tooling
    /// should do, deliberately. Every name is tried and reported, whatever happened to the ones before it.
    /// - Returns: false when a name was refused, unknown or could not be deleted.
    static func delete(_ names: [String], admin: KafkaAdmin, print: @Sendable (String) -> Void) -> Bool {
        var allDeleted = true
        for name in names {
            if name.hasPrefix("cohortsync.") {
                allDeleted = false
                print("refused  \(name): a CohortSync topic; delete it with the cluster's own tooling if you mean to")
                continue
            }
            do {
                if try admin.deleteTopic(name) {
                    print("deleted  \(name)")
                } else {
                    allDeleted = false
                    print("unknown  \(name)")
                }
            } catch {
                allDeleted = false
                print("failed   \(name): \(error)")
            }
        }
        return allDeleted
    }
}
