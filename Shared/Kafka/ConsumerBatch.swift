import CRdKafka
import Synchronization

/// The records of one poll, as views over the messages librdkafka fetched: nothing is copied until a
/// stage asks for it, and headers are parsed only when one is read.
///
/// The messages stay alive as long as any view of them does, so a view kept past its batch is still
/// valid (it only holds the fetch memory longer).
public struct ConsumerBatch: RandomAccessCollection, Sendable {
    let records: [ConsumerRecordView]

    init(records: [ConsumerRecordView]) {
        self.records = records
    }

    public var startIndex: Int { records.startIndex }
    public var endIndex: Int { records.endIndex }
    public subscript(position: Int) -> ConsumerRecordView { records[position] }

    /// The batch split by partition, in order of first appearance; each part keeps its records' order.
    public func byPartition() -> [ConsumerBatch] {
        guard let first = records.first else { return [] }
        if records.allSatisfy({ $0.partition == first.partition && $0.topic == first.topic }) { return [self] }
        var order: [TopicPartition] = []
        var parts: [TopicPartition: [ConsumerRecordView]] = [:]
        for record in records {
            let partition = record.topicPartition
            if parts[partition] == nil { order.append(partition) }
            parts[partition, default: []].append(record)
        }
        return order.map { ConsumerBatch(records: parts[$0]!) }
    }

    /// The records not of `partitions`.
    func excluding(_ partitions: [TopicPartition]) -> ConsumerBatch {
        ConsumerBatch(records: records.filter { !partitions.contains($0.topicPartition) })
    }
}

/// One consumed record, read in place from librdkafka's memory.
public struct ConsumerRecordView: KafkaRecord {
    let storage: MessageStorage
    let index: Int
    public let topic: String
    public let partition: Int32
    public let offset: Int64

    public var key: [UInt8]? {
        let message = storage.messages[index].pointee
        return message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) }
    }

    public var value: [UInt8] {
        let message = storage.messages[index].pointee
        return message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) } ?? []
    }

    public var valueCount: Int { storage.messages[index].pointee.len }

    public func header(named name: String) -> [UInt8]?? {
        storage.withHeaders(of: index) { headers -> [UInt8]?? in
            guard let headers else { return nil }
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_last(headers, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
            return .some(value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) })
        }
    }

    /// Every header, copied, in order.
    public var headers: [KafkaHeader] {
        storage.withHeaders(of: index) { headers in
            guard let headers else { return [] }
            var all: [KafkaHeader] = []
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(headers, all.count, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                all.append(
                    KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
            }
            return all
        }
    }

    public var timestampMilliseconds: Int64? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(storage.messages[index], &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
    }

    /// An owned copy, for keeping beyond the stage's interest in the batch.
    public var copy: ConsumerRecord {
        ConsumerRecord(
            topic: topic, partition: partition, offset: offset, key: key, value: value, headers: headers, timestampMilliseconds: timestampMilliseconds)
    }
}

/// Owns the messages of one poll and destroys them when the last view is gone.
///
/// `@unchecked Sendable` is sound: the messages are only read after the poll thread hands them over, except
/// that librdkafka parses a message's headers on first access and caches them in the message, which
/// `headerAccess` serializes. The client is kept alive until its messages are destroyed, as librdkafka requires.
final class MessageStorage: @unchecked Sendable {
    let client: RDKafkaClient
    let messages: [UnsafeMutablePointer<rd_kafka_message_t>]
    private let headerAccess = Mutex(())

    init(client: RDKafkaClient, messages: [UnsafeMutablePointer<rd_kafka_message_t>]) {
        self.client = client
        self.messages = messages
    }

    deinit {
        for message in messages { rd_kafka_message_destroy(message) }
    }

    func withHeaders<R>(of index: Int, _ body: (OpaquePointer?) -> R) -> R {
        headerAccess.withLock { _ in
            var headers: OpaquePointer?
            guard rd_kafka_message_headers(messages[index], &headers) == RD_KAFKA_RESP_ERR_NO_ERROR else { return body(nil) }
            return body(headers)
        }
    }
}
