import CRdKafka
import Observability

/// One record of a partition read from its beginning: a compacted topic's key and value, or a tombstone.
public struct PartitionEntry: Sendable {
    public let offset: Int64
    public let key: [UInt8]?
    /// nil for a tombstone (a null value): the key was deleted.
    public let value: [UInt8]?

    public init(offset: Int64, key: [UInt8]?, value: [UInt8]?) {
        self.offset = offset
        self.key = key
        self.value = value
    }
}

/// Reads one partition from its beginning to the end it had when the read began, outside any group.
///
/// A stateful stage restores its state from a compacted changelog with it when it is assigned a partition,
/// before handling that partition's records: what was written after the read began is its own writing.
public enum PartitionReader {
    /// Hands every record of `partition` from the first to the end (high watermark) at the start of the read
    /// to `body`, in order, on a thread of its own (never the cooperative pool): a restore of millions of
    /// records is CPU and broker round trips. Returns the number of records read.
    /// - Throws: `KafkaError` `.consumer` when the partition cannot be read (unknown topic, broker down until
    ///   `timeout` passes), or what `body` throws.
    public static func readAll(
        _ partition: TopicPartition, configuration: KafkaConfiguration, logger: Logger, timeout: Duration = .seconds(60),
        _ body: @escaping @Sendable (PartitionEntry) throws -> Void
    ) async throws -> Int {
        let result = await offCooperativePool { () -> Result<Int, any Error> in
            Result { try read(partition, configuration: configuration, logger: logger, timeout: timeout, body) }
        }
        return try result.get()
    }

    private static func read(
        _ partition: TopicPartition, configuration: KafkaConfiguration, logger: Logger, timeout: Duration,
        _ body: (PartitionEntry) throws -> Void
    ) throws -> Int {
        let effective = configuration.merging(
            defaults: [:],
            enforced: [
                "group.id": "cohortsync-partition-reader", "enable.auto.commit": "false", "enable.auto.offset.store": "false",
                "enable.partition.eof": "false",
            ])
        let client = try RDKafkaClient(kind: RD_KAFKA_CONSUMER, configuration: effective, context: RDKafkaClientContext(logger: logger))
        var low: Int64 = 0
        var high: Int64 = 0
        let watermarks = rd_kafka_query_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high, timeout.inMilliseconds)
        guard watermarks == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdkafka(watermarks, code: .consumer, "cannot read the offsets of \(partition)")
        }
        guard high > low else { return 0 }
        rd_kafka_poll_set_consumer(client.handle)
        let list = RDKafkaClient.makeList([partition], offsets: [partition: Int64(RD_KAFKA_OFFSET_BEGINNING)])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let assigned = rd_kafka_assign(client.handle, list)
        guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdkafka(assigned, code: .consumer, "cannot assign \(partition) to read it")
        }
        defer { _ = rd_kafka_assign(client.handle, nil) }
        var count = 0
        var lastProgress = ContinuousClock.now
        // Offsets of a compacted topic have gaps: the read ends at the first record at or past the end.
        var next = low
        while next < high {
            guard let message = rd_kafka_consumer_poll(client.handle, 100) else {
                guard ContinuousClock.now - lastProgress < timeout else {
                    throw KafkaError(code: .consumer, message: "no record of \(partition) arrived for \(timeout) at offset \(next) of \(high); check the broker")
                }
                continue
            }
            defer { rd_kafka_message_destroy(message) }
            let error = message.pointee.err
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                if error == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
                throw KafkaError.rdkafka(error, code: .consumer, "cannot read \(partition) at offset \(next)")
            }
            lastProgress = ContinuousClock.now
            let record = message.pointee
            let key = record.key.map { Array(UnsafeRawBufferPointer(start: $0, count: record.key_len)) }
            let value = record.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: record.len)) }
            try body(PartitionEntry(offset: record.offset, key: key, value: value))
            count += 1
            next = record.offset + 1
        }
        return count
    }
}
