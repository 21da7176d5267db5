import Kafka

extension KafkaProducer {
    /// Sends every record in order and returns their deliveries, for a `ProcessingLoop` handler.
    public func sendAll(_ records: [ProducerRecord]) async throws -> [PendingDelivery] {
        var deliveries: [PendingDelivery] = []
        deliveries.reserveCapacity(records.count)
        for record in records {
            deliveries.append(try await send(record))
        }
        return deliveries
    }
}
