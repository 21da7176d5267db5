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

/// Reads partitions from their beginning to the end each had when the read began, outside any group.
///
/// A stateful stage restores its state from a compacted changelog with it when it is assigned partitions,
/// before handling their records: what was written after the read began is its own writing. All the
/// partitions are read at once by one client, so a rebalance that hands over many costs one set-up.
public enum PartitionReader {
    /// Hands every record of `partitions`, from the first to the end (high watermark) at the start of the
    /// read, to `body`, in order within each partition, on a thread of its own (never the cooperative pool):
    /// a restore of millions of records is CPU and broker round trips. Returns the records read per partition.
    /// - Throws: `KafkaError` `.consumer` when a partition cannot be read (unknown topic, no record arriving
    ///   for `timeout`), or what `body` throws.
    public static func readAll(
        _ partitions: [TopicPartition], configuration: KafkaConfiguration, logger: Logger, timeout: Duration = .seconds(60),
        _ body: @escaping @Sendable (TopicPartition, PartitionEntry) throws -> Void
    ) async throws -> [TopicPartition: Int] {
        let result = await offCooperativePool { () -> Result<[TopicPartition: Int], any Error> in
            Result { try read(partitions, configuration: configuration, logger: logger, timeout: timeout, body) }
        }
        return try result.get()
    }

    /// One partition: `readAll` of it alone.
    public static func readAll(
        _ partition: TopicPartition, configuration: KafkaConfiguration, logger: Logger, timeout: Duration = .seconds(60),
        _ body: @escaping @Sendable (PartitionEntry) throws -> Void
    ) async throws -> Int {
        try await readAll([partition], configuration: configuration, logger: logger, timeout: timeout) { try body($1) }[partition] ?? 0
    }

    private static func read(
        _ partitions: [TopicPartition], configuration: KafkaConfiguration, logger: Logger, timeout: Duration,
        _ body: (TopicPartition, PartitionEntry) throws -> Void
    ) throws -> [TopicPartition: Int] {
        let effective = configuration.merging(
            defaults: ["fetch.wait.max.ms": "10"],
            enforced: [
                "group.id": "cohortsync-partition-reader", "enable.auto.commit": "false", "enable.auto.offset.store": "false",
                "enable.partition.eof": "false",
            ])
        let client = try RDKafkaClient(kind: RD_KAFKA_CONSUMER, configuration: effective, context: RDKafkaClientContext(logger: logger))
        var counts: [TopicPartition: Int] = [:]
        /// The next offset each partition still has to reach; a partition is done once it reaches its end.
        var remaining: [TopicPartition: (next: Int64, end: Int64)] = [:]
        for partition in partitions {
            var low: Int64 = 0
            var high: Int64 = 0
            let watermarks = rd_kafka_query_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high, timeout.inMilliseconds)
            guard watermarks == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.rdkafka(watermarks, code: .consumer, "cannot read the offsets of \(partition)")
            }
            counts[partition] = 0
            if high > low { remaining[partition] = (low, high) }
        }
        guard !remaining.isEmpty else { return counts }
        rd_kafka_poll_set_consumer(client.handle)
        let reading = Array(remaining.keys)
        let list = RDKafkaClient.makeList(reading, offsets: Dictionary(uniqueKeysWithValues: reading.map { ($0, Int64(RD_KAFKA_OFFSET_BEGINNING)) }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let assigned = rd_kafka_assign(client.handle, list)
        guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdkafka(assigned, code: .consumer, "cannot assign \(reading) to read them")
        }
        defer { _ = rd_kafka_assign(client.handle, nil) }
        var lastProgress = ContinuousClock.now
        // Offsets of a compacted topic have gaps: a partition ends at its first record at or past the end.
        while !remaining.isEmpty {
            guard let message = rd_kafka_consumer_poll(client.handle, 100) else {
                guard ContinuousClock.now - lastProgress < timeout else {
                    let waiting = remaining.map { "\($0.key) at \($0.value.next) of \($0.value.end)" }.sorted().joined(separator: ", ")
                    throw KafkaError(code: .consumer, message: "no record arrived for \(timeout) while reading \(waiting); check the broker")
                }
                continue
            }
            defer { rd_kafka_message_destroy(message) }
            let error = message.pointee.err
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                if error == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
                throw KafkaError.rdkafka(error, code: .consumer, "cannot read \(reading)")
            }
            lastProgress = ContinuousClock.now
            let record = message.pointee
            let partition = TopicPartition(topic: String(cString: rd_kafka_topic_name(record.rkt)), partition: record.partition)
            guard let position = remaining[partition] else { continue }
            let key = record.key.map { Array(UnsafeRawBufferPointer(start: $0, count: record.key_len)) }
            let value = record.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: record.len)) }
            try body(partition, PartitionEntry(offset: record.offset, key: key, value: value))
            counts[partition, default: 0] += 1
            if record.offset + 1 >= position.end { remaining[partition] = nil } else { remaining[partition] = (record.offset + 1, position.end) }
        }
        return counts
    }
}
