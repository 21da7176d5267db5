@testable import Kafka
import Observability
import Stage
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
        try await loop.run { _, _ in
            // Wait for a full buffer behind this batch, then stop.
            if handled.count.add(1, ordering: .relaxed).newValue == 1 {
                try await waitUntil { consumer.bufferedRecords > 1_000 }
                loop.stop()
            }
        }
        #expect(handled.count.load(ordering: .relaxed) == 1, "batches handed out after stop()")
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

    @Test("a revocation the reader has taken is the reader's to complete: ending the events leaves it alone")
    func takenRevocationIsTheReaders() async throws {
        let core = ConsumerCore(
            configuration: KafkaConsumerConfiguration(groupID: "g", topics: ["t"], kafka: KafkaConfiguration()), logger: logger)
        let partition = TopicPartition(topic: "t", partition: 0)
        let revocation = try #require(core.announceRevocation([partition], lost: false))
        guard case .revoked(let taken)? = try await core.next() else {
            Issue.record("the reader was not handed the revocation")
            return
        }
        #expect(taken === revocation)
        core.endEvents()
        #expect(!revocation.wait(timeout: .milliseconds(100)), "completed while the reader still drains its deliveries")
        revocation.complete()
        #expect(revocation.wait(timeout: .milliseconds(100)))
    }

    @Test("a fatal error with events still queued ends the events with that error, never as a clean stop")
    func fatalErrorIsNotAStop() async throws {
        let core = ConsumerCore(
            configuration: KafkaConsumerConfiguration(groupID: "g", topics: ["t"], kafka: KafkaConfiguration()), logger: logger)
        for partition in Int32(0)..<3 {
            core.announceAssignment([TopicPartition(topic: "t", partition: partition)])
        }
        core.endEvents(throwing: KafkaError(code: .consumer, message: "fatal", isFatal: true))
        let events = ConsumerEvents(core: core)
        let error = await #expect(throws: KafkaError.self) {
            for try await event in events {
                Issue.record("handed out \(event) after a fatal error")
            }
        }
        #expect(error?.isFatal == true)
    }

    @Test("a fatal consumer error while the loop waits behind a running handler ends the run with that error, never as a clean stop")
    func fatalErrorEndsTheRun() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("fatal", partitions: 1)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        var input = OutgoingRecords()
        for index in 0..<20 { input.append(ProducerRecord(topic: "fatal", key: nil, value: Array("\(index)".utf8))) }
        let writing = BatchCompletion { _ in }
        try await producer.send(input, completion: writing)
        writing.release()
        try await producer.shutdown()
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "fatal", topics: ["fatal"], kafka: cluster.configuration, maxBatchRecords: 5),
            logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger, limits: .init(drainTimeout: .milliseconds(300), closeTimeout: .seconds(10)))
        let started = HandledCount()
        // The first batch's handler never returns by itself; the loop waits behind it with the second batch.
        let failing = Task {
            try await waitUntil { started.count.load(ordering: .acquiring) > 0 && consumer.bufferedRecords == 10 }
            consumer.core.endEvents(throwing: KafkaError(code: .consumer, message: "fatal", isFatal: true))
        }
        let thrown = await #expect(throws: KafkaError.self) {
            try await loop.run { _, _ in
                started.count.add(1, ordering: .releasing)
                try await Task.sleep(for: .seconds(60))
            }
        }
        try await failing.value
        #expect(thrown?.isFatal == true, "the run ended as a clean stop")
    }

    @Test("a delivery the broker refuses ends the run, and no offset of its batch or after it is committed")
    func failedDeliveryStoresNothingOfItsBatch() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("deliver-in", partitions: 1)
        try cluster.createTopic("deliver-out", partitions: 1)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        // Written as one batch, so the broker hands them back together and the consumer cuts batches of ten.
        var input = OutgoingRecords()
        for index in 0..<60 { input.append(ProducerRecord(topic: "deliver-in", key: nil, value: Array("\(index)".utf8))) }
        let written = Atomic(false)
        let writing = BatchCompletion { written.store((try? $0.get()) != nil, ordering: .releasing) }
        try await producer.send(input, completion: writing)
        writing.release()
        try await waitUntil { written.load(ordering: .acquiring) }
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "deliver", topics: ["deliver-in"], kafka: cluster.configuration, maxBatchRecords: 10),
            logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger)
        let earlier = Mutex<[BatchCompletion]>([])
        let refused = Mutex<ClosedRange<Int64>?>(nil)
        let thrown = await #expect(throws: KafkaError.self) {
            try await loop.run { batch, completion in
                let offsets = batch[batch.startIndex].offset...batch[batch.endIndex - 1].offset
                // From the first batch at or after input 20 on, the broker refuses what the stage writes (not
                // retriable: authorization); every batch before it is acknowledged first.
                if offsets.lowerBound >= 20, refused.withLock({ $0 == nil }) {
                    let before = earlier.withLock { $0 }
                    try await waitUntil { before.allSatisfy(\.isFinished) }
                    refused.withLock { $0 = offsets }
                    cluster.failNextProduceRequests(50, code: 29)
                }
                var out = OutgoingRecords()
                for record in batch { out.append(ProducerRecord(topic: "deliver-out", key: nil, value: record.value)) }
                try await producer.send(out, completion: completion)
                earlier.withLock { $0.append(completion) }
            }
        }
        #expect(thrown?.code == .delivery)
        let failedBatch = try #require(refused.withLock { $0 })
        #expect(failedBatch.count > 1, "the refused batch holds several records, so a store inside it would show")
        let check = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "deliver", topics: ["deliver-in"], kafka: cluster.configuration), logger: logger)
        let partition = TopicPartition(topic: "deliver-in", partition: 0)
        let committed = try #require(try await check.committed([partition])[partition])
        #expect(committed == failedBatch.lowerBound, "offset \(committed) committed; the refused batch is \(failedBatch) and everything before it was acknowledged")
        await check.close()
        try? await producer.shutdown()
    }

    /// Records the handler saw, shared with it.
    final class HandledCount: Sendable {
        let count = Atomic(0)
    }
}
