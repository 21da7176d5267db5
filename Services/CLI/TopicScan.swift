import Kafka
import Observability

/// The partitions of a topic the CLI reads whole, or an error saying how to create it.
enum TopicScan {
    static func partitions(of topic: String, kafka: KafkaConfiguration, logger: Logger) throws -> [TopicPartition] {
        guard let count = try KafkaAdmin(configuration: kafka, logger: logger).partitionCount(of: topic) else {
            throw TopicScanError("topic \(topic) does not exist; create the internal topics with `cohortsync topics create`")
        }
        return (0..<Int32(count)).map { TopicPartition(topic: topic, partition: $0) }
    }
}

/// A topic the CLI needs is missing, said with the command that creates it.
struct TopicScanError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
