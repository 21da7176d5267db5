import CRdKafka

/// Collects the messages of one poll into a `ConsumerBatch`.
///
/// Used only on the consumer's poll thread, including from the rebalance callback that runs inside a poll
/// call, which hands out what was collected before announcing the rebalance: a revocation must follow every
/// record of its partitions that came before it. `@unchecked Sendable` for that confinement.
final class BatchAssembler: @unchecked Sendable {
    private var messages: [UnsafeMutablePointer<rd_kafka_message_t>] = []
    /// The last topic handle seen and its name, so a name is made once per batch and topic, not per record.
    private var lastTopic: (handle: OpaquePointer, name: String)?
    /// The client the messages belong to; weak, since the client's context owns the consumer state that owns this.
    weak var client: RDKafkaClient?

    var count: Int { messages.count }

    func add(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        messages.append(message)
    }

    /// The collected messages as a batch, or nil when there are none; starts a new collection.
    func take() -> ConsumerBatch? {
        guard !messages.isEmpty else { return nil }
        let collected = messages
        messages.removeAll(keepingCapacity: true)
        guard let client else {
            for message in collected { rd_kafka_message_destroy(message) }
            return nil
        }
        let storage = MessageStorage(client: client, messages: collected)
        var views: [ConsumerRecordView] = []
        views.reserveCapacity(collected.count)
        for (index, message) in collected.enumerated() {
            let raw = message.pointee
            views.append(ConsumerRecordView(storage: storage, index: index, topic: topicName(raw.rkt), partition: raw.partition, offset: raw.offset))
        }
        // The cache is only safe while the batch's messages hold their topic handles.
        lastTopic = nil
        return ConsumerBatch(records: views)
    }

    private func topicName(_ handle: OpaquePointer?) -> String {
        guard let handle else { return "" }
        if let lastTopic, lastTopic.handle == handle { return lastTopic.name }
        let name = String(cString: rd_kafka_topic_name(handle))
        lastTopic = (handle, name)
        return name
    }
}
