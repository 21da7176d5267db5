import Kafka
import Observability
import Stage
import Synchronization
import Testing

/// `KafkaConsumer.lag()`: what the alert rules and the autoscaler read, counted as Kafka's tools count it.
@Suite("Consumer lag on the mock cluster", .timeLimit(.minutes(2)))
struct ConsumerLagTests {
    let logger = Logger(stage: "kafka-tests", minimumLevel: .error)

    @Test("lag is the log end minus the committed offset: records fetched but still in the handler count, and it falls back to 0 once they are done")
    func lagCountsUnprocessedRecords() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("lagging", partitions: 1)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        func produce(_ range: Range<Int>) async throws {
            for index in range {
                _ = try await producer.send(ProducerRecord(topic: "lagging", key: nil, value: Array("\(index)".utf8))).acknowledged()
            }
        }
        try await produce(0..<100)
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "lag-group", topics: ["lagging"], kafka: cluster.configuration), logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger)
        let released = Atomic(false)
        let handled = Atomic(0)
        let waiting = Atomic(false)
        let running = Task {
            try await loop.run { batch, _ in
                for record in batch {
                    // Records from 100 on wait in the handler until the test releases them: fetched, not done.
                    while Int(String(decoding: record.value, as: UTF8.self))! >= 100, !released.load(ordering: .acquiring) {
                        waiting.store(true, ordering: .releasing)
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    handled.add(1, ordering: .relaxed)
                }
            }
        }
        let partition = TopicPartition(topic: "lagging", partition: 0)
        @Sendable func lag() async -> Int64? { try? await consumer.lag().lags[partition] }
        try await waitUntil { await lag() == 0 && handled.load(ordering: .relaxed) == 100 }

        try await produce(100..<150)
        // Record 100 is fetched and in the handler, held there: the lag still counts it and the 49 behind it.
        try await waitUntil { waiting.load(ordering: .acquiring) }
        try await waitUntil { await lag() == 50 }
        #expect(handled.load(ordering: .relaxed) == 100)

        released.store(true, ordering: .releasing)
        try await waitUntil { await lag() == 0 }
        #expect(handled.load(ordering: .relaxed) == 150)
        loop.stop()
        try await running.value
        try await producer.shutdown()
    }
}
