import BatcherCore
import Config
import Foundation
import Kafka
import Observability
import Stage
import Synchronization
import Testing
import Wire

/// The engine in a processing loop on librdkafka's mock cluster, where the broker can be made to refuse writes.
@Suite("Batcher engine when the broker refuses a flush")
struct EngineFailureTests {
    let logger = Logger(stage: "batcher-engine-test", minimumLevel: .error)

    @Test("a refused flush ends the run with the error; no input offset is stored, no batch written, no audience state confirms it")
    func refusedFlush() async throws {
        let cluster = try KafkaMockCluster()
        for topic in [TopicNames.hashed, TopicNames.batcherState, TopicNames.batchesX, TopicNames.batchesTikTok, TopicNames.deadLetters] {
            try cluster.createTopic(topic, partitions: 1)
        }
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        var input = OutgoingRecords()
        for user in 0..<10 {
            let member = HashedMember(
                connectionID: "x-main", audienceID: "aud", userKey: "u\(user)", action: .enter, identifiers: LedgerHarness.ids([(.email, UInt8(user))]))
            input.append(HashedRecord.member(member), topic: TopicNames.hashed, placement: .partition(0), headers: .none, key: nil)
        }
        try await producer.deliver(input)

        let config = try ConfigParser.parse(Data(LedgerConfigs.x(maxDelaySeconds: 1).utf8))
        let engine = BatcherEngine(
            config: config, settings: BatcherEngine.Settings(tickInterval: .milliseconds(50)), producer: producer, kafka: cluster.configuration,
            logger: logger, metrics: BatcherMetrics(registry: MetricsRegistry()))
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "batcher", topics: [TopicNames.hashed], kafka: cluster.configuration), logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger)
        let hooks = ProcessingLoop.PartitionHooks(
            assigned: { try await engine.assigned($0) }, releasing: { await engine.releasing($0) }, revoked: { await engine.revoked($0) },
            abandoned: { await engine.revoked($0) })
        // Every write from now on is refused (not retriable: authorization), the flush's first step included.
        cluster.failNextProduceRequests(200, code: 29)
        let handled = Atomic(0)
        let timer = Task {
            while !Task.isCancelled {
                engine.tick()
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let thrown = await #expect(throws: KafkaError.self) {
            try await loop.run(hooks: hooks) { batch, completion in
                handled.add(batch.count, ordering: .relaxed)
                try await engine.handle(batch, completion)
            }
        }
        timer.cancel()
        #expect(thrown?.code == .delivery)
        #expect(handled.load(ordering: .relaxed) == 10, "every record reached the engine before the flush failed")

        let check = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "batcher", topics: [TopicNames.hashed], kafka: cluster.configuration), logger: logger)
        let partition = TopicPartition(topic: TopicNames.hashed, partition: 0)
        let committed = try await check.committed([partition])[partition]
        // librdkafka reports -1001 (no offset) for a partition with no commit.
        #expect((committed ?? -1001) <= 0, "offset \(String(describing: committed)) committed for records whose flush failed")
        await check.close()
        let admin = try KafkaAdmin(configuration: cluster.configuration, logger: logger)
        #expect(try admin.endOffsets(of: TopicNames.batchesX).values.reduce(0, +) == 0, "a batch was written after its intent was refused")
        let audienceStates = Atomic(0)
        _ = try await PartitionReader.readAll(TopicPartition(topic: TopicNames.batcherState, partition: 0), configuration: cluster.configuration, logger: logger) {
            entry in
            if let key = entry.key, case .audience? = BatcherState.parseKey(key) { audienceStates.add(1, ordering: .relaxed) }
        }
        #expect(audienceStates.load(ordering: .relaxed) == 0, "an audience state confirmed a flush the broker refused")
        try? await producer.shutdown(timeout: .seconds(1))
    }
}
