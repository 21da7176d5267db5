import CRdKafka
import Observability

/// Creates and deletes topics and reads topic metadata.
///
/// Every call blocks its thread for a broker round trip; it is meant for start-up checks and the CLI,
/// never for a hot path.
public final class KafkaAdmin: Sendable {
    private let client: RDKafkaClient

    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        client = try RDKafkaClient(kind: RD_KAFKA_PRODUCER, configuration: configuration, context: RDKafkaClientContext(logger: logger))
    }

    /// Creates one topic.
    /// - Throws: `KafkaError` `.admin` with the broker's reason (for example too many partitions), or `.timeout`.
    public func createTopic(_ topic: TopicSpecification, timeout: Duration = .seconds(30)) throws(KafkaError) -> TopicCreation {
        var errorText = [CChar](repeating: 0, count: 512)
        guard let newTopic = rd_kafka_NewTopic_new(topic.name, topic.partitions, topic.replicationFactor, &errorText, errorText.count) else {
            let reason = RDKafkaClient.text(errorText)
            throw KafkaError(code: .admin, message: "invalid topic '\(topic.name)': \(reason)")
        }
        defer { rd_kafka_NewTopic_destroy(newTopic) }
        for (name, value) in topic.configuration.sorted(by: { $0.key < $1.key }) {
            let error = rd_kafka_NewTopic_set_config(newTopic, name, value)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.rdkafka(error, code: .admin, "invalid config '\(name)' for topic '\(topic.name)'")
            }
        }
        var topics: [OpaquePointer?] = [newTopic]
        let event = try request(RD_KAFKA_ADMIN_OP_CREATETOPICS, "create topic '\(topic.name)'", timeout: timeout) { options, queue in
            rd_kafka_CreateTopics(client.handle, &topics, 1, options, queue)
        }
        defer { rd_kafka_event_destroy(event) }
        var count = 0
        let results = rd_kafka_event_CreateTopics_result(event).flatMap { rd_kafka_CreateTopics_result_topics($0, &count) }
        let answer = try Self.onlyTopic(results, count: count, "create topic '\(topic.name)'")
        switch answer.error {
        case RD_KAFKA_RESP_ERR_NO_ERROR: return .created
        case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: return .alreadyExisted
        default: throw answer.failure
        }
    }

    /// Deletes one topic and everything in it.
    /// - Returns: false when the broker did not know the topic (nothing to delete).
    /// - Throws: `KafkaError` `.admin` with the broker's reason (deletion disabled, not authorized), or `.timeout`.
    public func deleteTopic(_ name: String, timeout: Duration = .seconds(30)) throws(KafkaError) -> Bool {
        let deletion = rd_kafka_DeleteTopic_new(name)
        defer { rd_kafka_DeleteTopic_destroy(deletion) }
        var deletions: [OpaquePointer?] = [deletion]
        let event = try request(RD_KAFKA_ADMIN_OP_DELETETOPICS, "delete topic '\(name)'", timeout: timeout) { options, queue in
            rd_kafka_DeleteTopics(client.handle, &deletions, 1, options, queue)
        }
        defer { rd_kafka_event_destroy(event) }
        var count = 0
        let results = rd_kafka_event_DeleteTopics_result(event).flatMap { rd_kafka_DeleteTopics_result_topics($0, &count) }
        let answer = try Self.onlyTopic(results, count: count, "delete topic '\(name)'")
        switch answer.error {
        case RD_KAFKA_RESP_ERR_NO_ERROR: return true
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART: return false
        default: throw answer.failure
        }
    }

    /// The broker's answer about the one topic a request named: its error code, and the error to throw for
    /// a code the caller does not take (naming `what` and the broker's reason).
    /// - Throws: `KafkaError` `.admin` when the answer names no topic.
    private static func onlyTopic(
        _ results: UnsafeMutablePointer<OpaquePointer?>?, count: Int, _ what: String
    ) throws(KafkaError) -> (error: rd_kafka_resp_err_t, failure: KafkaError) {
        guard let results, count > 0, let first = results[0] else {
            throw KafkaError(code: .admin, message: "the broker answered \(what) without a result")
        }
        let error = rd_kafka_topic_result_error(first)
        let reason = rd_kafka_topic_result_error_string(first).map { String(cString: $0) } ?? ""
        return (error, KafkaError(code: .admin, message: "\(what) failed: \(reason)", librdkafkaCode: error.rawValue))
    }

    /// Sends one admin request (`submit` gets its options and reply queue) and returns the broker's answer,
    /// which the caller destroys.
    /// - Throws: `KafkaError` `.timeout` when no answer comes within `timeout`, `.admin` when the request as a
    ///   whole failed; `what` names the request in both.
    private func request(
        _ operation: rd_kafka_admin_op_t, _ what: String, timeout: Duration, submit: (OpaquePointer?, OpaquePointer?) -> Void
    ) throws(KafkaError) -> OpaquePointer {
        let queue = rd_kafka_queue_new(client.handle)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(client.handle, operation)
        defer { rd_kafka_AdminOptions_destroy(options) }
        let milliseconds = timeout.inMilliseconds
        _ = rd_kafka_AdminOptions_set_request_timeout(options, milliseconds, nil, 0)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, milliseconds, nil, 0)
        submit(options, queue)
        guard let event = rd_kafka_queue_poll(queue, milliseconds + 1000) else {
            throw KafkaError(code: .timeout, message: "\(what) got no answer in \(timeout); is the broker reachable?", isRetriable: true)
        }
        let requestError = rd_kafka_event_error(event)
        guard requestError == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_event_destroy(event)
            throw KafkaError.rdkafka(requestError, code: .admin, "\(what) failed")
        }
        return event
    }

    /// The number of partitions of `topic`, or nil if the broker does not know it.
    /// Asks for all topics' metadata, so the question never auto-creates the topic.
    public func partitionCount(of topic: String, timeout: Duration = .seconds(10)) throws(KafkaError) -> Int? {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(client.handle, 1, nil, &metadata, timeout.inMilliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError.rdkafka(error, code: .admin, "cannot read cluster metadata")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let entry = metadata.pointee.topics[index]
            guard String(cString: entry.topic) == topic else { continue }
            if entry.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART { return nil }
            return Int(entry.partition_cnt)
        }
        return nil
    }

    /// The end (high watermark) of every partition of `topic`: the offset the next record written to it gets.
    /// A reader that starts there (`KafkaConsumerConfiguration.startOffsets`) sees exactly what is written after.
    /// - Throws: `KafkaError` `.admin` when the topic is unknown or the broker does not answer.
    public func endOffsets(of topic: String, timeout: Duration = .seconds(10)) throws(KafkaError) -> [TopicPartition: Int64] {
        guard let count = try partitionCount(of: topic, timeout: timeout) else {
            throw KafkaError(code: .admin, message: "topic '\(topic)' does not exist; create it first (cohortsync topics create)")
        }
        var ends: [TopicPartition: Int64] = [:]
        for partition in 0..<Int32(count) {
            var low: Int64 = 0
            var high: Int64 = 0
            let error = rd_kafka_query_watermark_offsets(client.handle, topic, partition, &low, &high, timeout.inMilliseconds)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.rdkafka(error, code: .admin, "cannot read the end of \(topic)[\(partition)]")
            }
            ends[TopicPartition(topic: topic, partition: partition)] = high
        }
        return ends
    }
}
