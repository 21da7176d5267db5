/// What a stage reads from a consumed record, whether it is a view over librdkafka's memory
/// (`ConsumerRecordView`, what a running stage gets) or an owned copy (`ConsumerRecord`, what tests build).
///
/// Stages are written against this protocol so their logic is tested without a broker and runs over views
/// without a copy per record.
public protocol KafkaRecord: Sendable {
    var topic: String { get }
    var partition: Int32 { get }
    var offset: Int64 { get }
    /// The key, copied; nil when the record has none.
    var key: [UInt8]? { get }
    /// The value, copied.
    var value: [UInt8] { get }
    /// The value's size, without copying it (to refuse an oversized record before reading it).
    var valueCount: Int { get }
    /// The value of the last header named `name`: nil when there is none, `.some(nil)` for a header without a value.
    func header(named name: String) -> [UInt8]??
    /// Record timestamp in milliseconds since the epoch, when the broker reports one.
    var timestampMilliseconds: Int64? { get }
}

extension KafkaRecord {
    /// The partition this record came from.
    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// The value of the last header named `name`, decoded as UTF-8; nil when it is missing or has no value.
    public func headerString(named name: String) -> String? {
        header(named: name).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) }
    }
}
