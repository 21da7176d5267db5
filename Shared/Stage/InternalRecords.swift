import Kafka
import Wire

extension RecordHeaders {
    /// The standard headers as Kafka headers, for a record of type `M` derived from `trace`.
    public static func kafkaHeaders<M: ProtoMessage>(for type: M.Type, trace: SourcePosition) -> [KafkaHeader] {
        RecordHeaders(for: type, trace: trace).pairs.map { KafkaHeader(name: $0.name, string: $0.value) }
    }
}

extension DeadLetter {
    /// This dead letter as a record for `cohortsync.dlq.v1`, keyed by its source topic and partition so the
    /// letters of one input partition stay in order.
    public var producerRecord: ProducerRecord {
        ProducerRecord(
            topic: TopicNames.deadLetters, key: Array("\(source.topic)/\(source.partition)".utf8), value: serializedBytes(),
            headers: RecordHeaders.kafkaHeaders(for: DeadLetter.self, trace: source))
    }
}
