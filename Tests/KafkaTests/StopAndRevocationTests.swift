@testable import Kafka
import Runtime
import Synchronization
import Testing

/// `stop()` means stop: nothing buffered is handed out after it, and a revocation waiting for the reader
/// never makes the rebalance or `close()` wait out its timeout.
@Suite("Stopping a consumer", .timeLimit(.minutes(1)))
struct StopAndRevocationTests {
    let logger = Logger(stage: "kafka-tests", minimumLevel: .error)

    @Test("a stop with thousands of records buffered handles none of them after the stop")
    func stopWithFullBuffer() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("buffered", partitions: 1)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        var deliveries: [PendingDelivery] = []
        for index in 0..<5_000 {
            deliveries.append(try await producer.send(ProducerRecord(topic: "buffered", key: nil, value: Array("\(index)".utf8))))
        }
        for delivery in deliveries { _ = try await delivery.acknowledged() }
        try await producer.shutdown()

        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "stop-group", topics: ["buffered"], kafka: cluster.configuration), logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger)
        let handled = HandledCount()
        let started = ContinuousClock.now
        try await loop.run { _ in
            // Wait for a full buffer behind this record, then stop.
            if handled.count.add(1, ordering: .relaxed).newValue == 1 {
                try await waitUntil { consumer.bufferedRecords > 1_000 }
                loop.stop()
            }
            return []
        }
        #expect(handled.count.load(ordering: .relaxed) == 1, "records handed out after stop()")
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test("a revocation announced before the events end is completed by their end; none is announced after")
    func revocationRacingWithStop() throws {
        let core = ConsumerCore(
            configuration: KafkaConsumerConfiguration(groupID: "g", topics: ["t"], kafka: KafkaConfiguration()), logger: logger)
        let partition = TopicPartition(topic: "t", partition: 0)
        let revocation = try #require(core.announceRevocation([partition], lost: false))
        core.endEvents()
        #expect(revocation.wait(timeout: .milliseconds(200)), "the poll thread would wait out the revocation timeout")
        #expect(core.announceRevocation([partition], lost: false) == nil, "a revocation announced into ended events")
    }

    @Test("a delivery the broker refuses ends the run, and no offset at or past its input is committed")
    func failedDeliveryStoresNothingPastIt() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("deliver-in", partitions: 1)
        try cluster.createTopic("deliver-out", partitions: 1)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        for index in 0..<60 {
            _ = try await producer.send(ProducerRecord(topic: "deliver-in", key: nil, value: Array("\(index)".utf8))).acknowledged()
        }
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "deliver", topics: ["deliver-in"], kafka: cluster.configuration), logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger)
        let sent = Mutex<[(offset: Int64, delivery: PendingDelivery)]>([])
        let thrown = await #expect(throws: KafkaError.self) {
            try await loop.run { record in
                // From input 20 on, the broker refuses what the stage writes (not retriable: authorization).
                if record.offset == 20 { cluster.failNextProduceRequests(50, code: 29) }
                let delivery = try await producer.send(ProducerRecord(topic: "deliver-out", key: nil, value: record.value))
                sent.withLock { $0.append((record.offset, delivery)) }
                return [delivery]
            }
        }
        #expect(thrown?.code == .delivery)
        let failed = try #require(sent.withLock { $0 }.filter { $0.delivery.result.map { (try? $0.get()) == nil } ?? false }.map(\.offset).min())
        let check = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "deliver", topics: ["deliver-in"], kafka: cluster.configuration), logger: logger)
        let partition = TopicPartition(topic: "deliver-in", partition: 0)
        let committed = try check.committed([partition])[partition] ?? 0
        #expect(committed <= failed, "offset \(committed) committed past the refused input \(failed)")
        await check.close()
        try? await producer.shutdown()
    }

    /// Records the handler saw, shared with it.
    final class HandledCount: Sendable {
        let count = Atomic(0)
    }
}
