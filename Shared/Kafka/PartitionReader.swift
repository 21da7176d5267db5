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
    /// Messages taken from librdkafka per call.
    static let messagesPerCall = 4_096

    /// Hands every record of `partitions`, from the first to the end (high watermark) at the start of the
    /// read, to `body`, in order within each partition, on a thread of its own (never the cooperative pool):
    /// a restore of millions of records is CPU and broker round trips. Returns the records read per partition.
    /// - Throws: `KafkaError` `.consumer` when a partition cannot be read (unknown topic, no record arriving
    ///   for `timeout`), or what `body` throws.
    ///
    /// `body` gets the records of one partition as they arrive, several at a time and in offset order, so a
    /// caller applying them under a lock takes it once per run of records, not per record.
    public static func readAll(
        _ partitions: [TopicPartition], configuration: KafkaConfiguration, logger: Logger, timeout: Duration = .seconds(60),
        _ body: @escaping @Sendable (TopicPartition, [PartitionEntry]) throws -> Void
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
        try await readAll([partition], configuration: configuration, logger: logger, timeout: timeout) { _, entries in
            for entry in entries { try body(entry) }
        }[partition] ?? 0
    }

    /// The partition a run of one call's messages belongs to, and how far its reading got.
    private struct Run {
        let topic: OpaquePointer?
        let number: Int32
        /// Nil for a partition not being read (not asked for, or finished): its messages are skipped.
        let partition: TopicPartition?
        var next: Int64
        let end: Int64
        var done: Bool

        init(topic: OpaquePointer?, number: Int32, partition: TopicPartition, position: (next: Int64, end: Int64)?) {
            self.topic = topic
            self.number = number
            self.partition = position == nil ? nil : partition
            next = position?.next ?? 0
            end = position?.end ?? 0
            done = position == nil
        }
    }

    private static func read(
        _ partitions: [TopicPartition], configuration: KafkaConfiguration, logger: Logger, timeout: Duration,
        _ body: (TopicPartition, [PartitionEntry]) throws -> Void
    ) throws -> [TopicPartition: Int] {
        let effective = configuration.merging(
            defaults: ["fetch.wait.max.ms": "10"],
            enforced: [
                "group.id": "cohortsync-partition-reader", "enable.auto.commit": "false", "enable.auto.offset.store": "false",
                // The end of a partition is reported, so one whose last offsets hold no record (compacted away,
                // or a log emptied by retention meanwhile) is done there instead of waiting for a record.
                "enable.partition.eof": "true",
                // Reading starts at each partition's first offset as queried; should the log start pass it
                // meanwhile, the read starts again from the new first offset rather than the end.
                "auto.offset.reset": "earliest",
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
        // Each partition from its first offset as just queried, not the logical "beginning": a concrete offset
        // needs no lookup of its own, so the first fetch asks for every partition at once.
        let list = RDKafkaClient.makeList(reading, offsets: remaining.mapValues(\.next))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let assigned = rd_kafka_assign(client.handle, list)
        guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdkafka(assigned, code: .consumer, "cannot assign \(reading) to read them")
        }
        defer { _ = rd_kafka_assign(client.handle, nil) }
        guard let queue = rd_kafka_queue_get_consumer(client.handle) else {
            throw KafkaError(code: .consumer, message: "librdkafka has no consumer queue to read \(reading) from")
        }
        defer { rd_kafka_queue_destroy(queue) }
        var messages = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: Self.messagesPerCall)
        var lastProgress = ContinuousClock.now
        var run: [PartitionEntry] = []
        run.reserveCapacity(Self.messagesPerCall)
        // Offsets of a compacted topic have gaps: a partition ends at its first record at or past the end, or
        // where librdkafka reports its end.
        while !remaining.isEmpty {
            let taken = rd_kafka_consume_batch_queue(queue, 100, &messages, messages.count)
            guard taken > 0 else {
                guard ContinuousClock.now - lastProgress < timeout else {
                    let waiting = remaining.map { "\($0.key) at \($0.value.next) of \($0.value.end)" }.sorted().joined(separator: ", ")
                    throw KafkaError(code: .consumer, message: "no record arrived for \(timeout) while reading \(waiting); check the broker")
                }
                continue
            }
            defer { for index in 0..<taken { rd_kafka_message_destroy(messages[index]) } }
            // One call's messages come in runs of one partition (a fetch answer's), each handed over as it ends;
            // the partition is looked up once per run, not per record.
            var current: Run?
            func handOver() throws {
                guard let active = current, let partition = active.partition else { return }
                if !run.isEmpty {
                    try body(partition, run)
                    counts[partition, default: 0] += run.count
                    run.removeAll(keepingCapacity: true)
                    lastProgress = ContinuousClock.now
                }
                remaining[partition] = active.done ? nil : (active.next, active.end)
            }
            for index in 0..<taken {
                guard let message = messages[index] else { continue }
                let record = message.pointee
                guard record.err == RD_KAFKA_RESP_ERR_NO_ERROR || record.err == RD_KAFKA_RESP_ERR__PARTITION_EOF else {
                    throw KafkaError.rdkafka(record.err, code: .consumer, "cannot read \(reading)")
                }
                if current?.topic != record.rkt || current?.number != record.partition {
                    try handOver()
                    let partition = TopicPartition(topic: String(cString: rd_kafka_topic_name(record.rkt)), partition: record.partition)
                    current = Run(topic: record.rkt, number: record.partition, partition: partition, position: remaining[partition])
                }
                guard let active = current, !active.done else { continue }
                if record.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    // The end reached (its offset is the next one to be written): done if that is the end the read
                    // began with, or past it.
                    if record.offset >= active.end {
                        current?.done = true
                        lastProgress = ContinuousClock.now
                    }
                    continue
                }
                // A record before the next expected one was read already (a reset back to the log start).
                guard record.offset >= active.next else { continue }
                let key = record.key.map { Array(UnsafeRawBufferPointer(start: $0, count: record.key_len)) }
                let value = record.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: record.len)) }
                run.append(PartitionEntry(offset: record.offset, key: key, value: value))
                current?.next = record.offset + 1
                if record.offset + 1 >= active.end { current?.done = true }
            }
            try handOver()
        }
        return counts
    }
}
