import CRdKafka
import Foundation
import Observability

/// A consumer-group member with manual offset storing, rebalance handshakes and back-pressure.
///
/// librdkafka auto-commits only offsets the member stored (`enable.auto.offset.store=false`), and a
/// member stores an offset only after the record is processed and everything produced for it is
/// acknowledged (see `ProcessingLoop`). A dedicated thread polls; records and assignment changes arrive,
/// in order, through `events`, which has exactly one reader.
public final class KafkaConsumer: Sendable {
    /// Settings at-least-once processing depends on; they override the configuration.
    static let enforced = ["enable.auto.offset.store": "false"]

    private let client: RDKafkaClient
    private let core: ConsumerCore
    private let poller: PollThread
    private let logger: Logger

    /// Joins the group and subscribes; assignments arrive as events once polling has begun.
    /// - Throws: `KafkaError` `.configuration` or `.clientCreation`, or `.consumer` if the subscription is refused.
    public init(configuration: KafkaConsumerConfiguration, logger: Logger) throws(KafkaError) {
        guard !configuration.groupID.isEmpty else {
            throw KafkaError(code: .configuration, message: "a consumer needs a non-empty group id")
        }
        guard !configuration.topics.isEmpty else {
            throw KafkaError(code: .configuration, message: "a consumer needs at least one topic to subscribe to")
        }
        var enforced = Self.enforced
        enforced["group.id"] = configuration.groupID
        let effective = configuration.kafka.merging(defaults: KafkaConsumerConfiguration.defaults, enforced: enforced)
        let core = ConsumerCore(configuration: configuration, logger: logger)
        let client = try RDKafkaClient(
            kind: RD_KAFKA_CONSUMER, configuration: effective,
            context: RDKafkaClientContext(logger: logger, consumer: core)
        ) { conf in
            rd_kafka_conf_set_rebalance_cb(conf) { handle, error, partitions, opaque in
                guard let handle, let opaque else { return }
                let context = Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
                context.consumer?.rebalance(handle, error, partitions)
            }
        }
        rd_kafka_poll_set_consumer(client.handle)
        let topics = RDKafkaClient.makeList(configuration.topics.map { TopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA) })
        defer { rd_kafka_topic_partition_list_destroy(topics) }
        let subscribed = rd_kafka_subscribe(client.handle, topics)
        guard subscribed == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdkafka(subscribed, code: .consumer, "cannot subscribe to \(configuration.topics)")
        }
        self.client = client
        self.core = core
        self.logger = logger
        self.poller = PollThread(
            name: "kafka-consumer-poll",
            step: { Self.pollOnce(client: client, core: core) },
            finish: {
                let closed = rd_kafka_consumer_close(client.handle)
                if closed != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.warning("consumer close reported an error", [("error", .string(KafkaError.rdkafka(closed, code: .consumer, "close").description))])
                }
                core.endEvents()
            })
    }

    /// Records and assignment changes, in order. Has exactly one reader; ends after `endEvents()` or `close()`,
    /// or throws a fatal `KafkaError`.
    public var events: ConsumerEvents { ConsumerEvents(stream: core.stream, core: core) }

    private static func pollOnce(client: RDKafkaClient, core: ConsumerCore) {
        guard core.shouldPoll(client.handle) else {
            usleep(1000)
            return
        }
        guard let message = rd_kafka_consumer_poll(client.handle, 100) else { return }
        defer { rd_kafka_message_destroy(message) }
        let raw = message.pointee
        guard raw.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if raw.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return }
            let error = KafkaError.rdkafka(raw.err, code: .consumer, "consume failed")
            core.logger.log(error.isFatal ? .error : .warning, "consume error", [("error", .string(error.description))])
            if error.isFatal { core.endEvents(throwing: error) }
            return
        }
        core.deliver(Self.record(from: message))
    }

    /// Copies a message out of librdkafka. Headers and timestamp are read through the original pointer:
    /// librdkafka finds them in the structure that embeds the message, so a copy would not do.
    private static func record(from message: UnsafeMutablePointer<rd_kafka_message_t>) -> ConsumerRecord {
        let raw = message.pointee
        let topic = String(cString: rd_kafka_topic_name(raw.rkt))
        let key = raw.key.map { Array(UnsafeRawBufferPointer(start: $0, count: raw.key_len)) }
        let value = raw.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: raw.len)) } ?? []
        var headers: [KafkaHeader] = []
        var headerList: OpaquePointer?
        if rd_kafka_message_headers(message, &headerList) == RD_KAFKA_RESP_ERR_NO_ERROR, let headerList {
            var index = 0
            var name: UnsafePointer<CChar>?
            var valuePointer: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(headerList, index, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let headerValue = valuePointer.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: headerValue))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        return ConsumerRecord(
            topic: topic, partition: raw.partition, offset: raw.offset, key: key, value: value, headers: headers,
            timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp)
    }

    /// Stores `nextOffset` (one past the last processed record) for `partition`; committed by the next
    /// auto-commit, revocation or close. Storing for a partition no longer assigned is ignored.
    public func store(_ partition: TopicPartition, nextOffset: Int64) {
        let list = RDKafkaClient.makeList([partition], offsets: [partition: nextOffset])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let error = rd_kafka_offsets_store(client.handle, list)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR && error != RD_KAFKA_RESP_ERR__STATE {
            // Not fatal (the records are redelivered), but an operator must see it: it means duplicates.
            logger.warning(
                "offset not stored; its records will be processed again",
                [("partition", .string(partition.description)), ("error", .string(KafkaError.rdkafka(error, code: .consumer, "store offset").description))])
        }
    }

    /// Synchronously commits stored offsets. Blocks the calling thread for a broker round trip: call it at
    /// shutdown or from tests, not per record.
    /// - Throws: `KafkaError` `.commit`; during a rebalance this is expected and retriable.
    public func commit() throws(KafkaError) {
        if let error = core.commitStored(client.handle) { throw error }
    }

    /// Committed offsets of the given partitions (the next offset a new member would read), from the broker.
    /// Blocks for a broker round trip.
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) throws(KafkaError) -> [TopicPartition: Int64] {
        let list = RDKafkaClient.makeList(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let error = rd_kafka_committed(client.handle, list, timeout.inMilliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdkafka(error, code: .consumer, "cannot read committed offsets")
        }
        var result: [TopicPartition: Int64] = [:]
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            result[TopicPartition(topic: String(cString: element.topic), partition: element.partition)] = element.offset
        }
        return result
    }

    /// Records handed out by the poll thread and not yet taken by the reader (a lag gauge for metrics).
    public var bufferedRecords: Int { core.bufferedCount }

    /// The partitions currently assigned to this member.
    public var assignment: [TopicPartition] { ConsumerCore.assignment(client.handle) }

    /// Stops fetching from these partitions until `resume`; for back-pressure beyond the built-in buffer limit.
    public func pause(_ partitions: [TopicPartition]) { core.userPause(client.handle, partitions) }

    /// Resumes fetching from partitions paused with `pause`.
    public func resume(_ partitions: [TopicPartition]) { core.userResume(client.handle, partitions) }

    /// Ends `events` at once (buffered records are not handed out; they are fetched again by whoever owns
    /// their partitions next), so the reader can drain its in-flight work; the membership stays alive until `close()`.
    public func endEvents() { core.endEvents() }

    /// Leaves the group: commits stored offsets, gives partitions back and stops the poll thread.
    public func close() async {
        core.endEvents()
        poller.stop()
        await poller.join()
    }
}

/// The consumer's events as an async sequence that counts what the reader took, for back-pressure.
public struct ConsumerEvents: AsyncSequence, Sendable {
    public typealias Element = ConsumerEvent
    let stream: AsyncThrowingStream<ConsumerEvent, any Error>
    let core: ConsumerCore

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ConsumerEvent, any Error>.AsyncIterator
        let core: ConsumerCore

        /// The next event. Once the events ended, nothing more is handed out, even what is still buffered: nil
        /// after `endEvents()`, the error after a fatal one. Records of partitions being revoked are skipped, so
        /// the revocation is not kept waiting behind them (their next owner reads them again).
        public mutating func next() async throws -> ConsumerEvent? {
            while let event = try await base.next() {
                switch core.end {
                case .failure(let error)?: throw error
                case .success?: return nil
                case nil: break
                }
                switch event {
                case .record(let record):
                    core.recordTaken()
                    if core.isBeingRevoked(record.topicPartition) { continue }
                case .revoked(let revocation):
                    core.revocationTaken(revocation)
                case .assigned:
                    break
                }
                return event
            }
            if case .failure(let error)? = core.end { throw error }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), core: core)
    }
}
