import Kafka
import Observability
import Stage
import Synchronization
import Testing

/// Back-pressure pauses partitions while polling goes on, so a member is never evicted for a slow handler:
/// an uploader waiting on HTTP calls would otherwise leave the group again and again.
@Suite("A slow handler on the mock cluster", .timeLimit(.minutes(2)))
struct SlowHandlerTests {
    /// Log lines, kept to look for librdkafka's eviction message.
    final class Lines: Sendable {
        let all = Mutex<[String]>([])
    }

    @Test("a handler far slower than max.poll.interval.ms allows per buffer is never evicted and sees each record once")
    func noEviction() async throws {
        let lines = Lines()
        let logger = Logger(stage: "slow-test", minimumLevel: .warning, sink: LogSink { line in lines.all.withLock { $0.append(line) } })
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("slow-handler", partitions: 2)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        for index in 0..<240 {
            _ = try await producer.send(ProducerRecord(topic: "slow-handler", key: Array("k\(index % 7)".utf8), value: Array("\(index)".utf8)))
        }
        try await producer.shutdown()
        // Half of 160 buffered records take 4 s to handle; the member must poll at least every 3 s.
        var kafka = cluster.configuration
        kafka.properties.merge(["max.poll.interval.ms": "3000", "session.timeout.ms": "3000"]) { $1 }
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "slow-handler", topics: ["slow-handler"], kafka: kafka, maxBufferedRecords: 160),
            logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger)
        let seen = Mutex<[Int]>([])
        let assignments = Atomic(0)
        let mostBuffered = Atomic(0)
        let running = Task {
            try await loop.run(hooks: .init(assigned: { _ in assignments.add(1, ordering: .relaxed) })) { batch, _ in
                for record in batch {
                    mostBuffered.max(consumer.bufferedRecords, ordering: .relaxed)
                    try await Task.sleep(for: .milliseconds(50))
                    seen.withLock { $0.append(Int(String(decoding: record.value, as: UTF8.self))!) }
                }
            }
        }
        try await waitUntil { seen.withLock { $0.count } >= 240 }
        loop.stop()
        try await running.value
        let values = seen.withLock { $0 }
        #expect(values.count == 240, "records handled again after an eviction")
        #expect(Set(values) == Set(0..<240))
        #expect(assignments.load(ordering: .relaxed) == 1, "the member left the group and joined again")
        #expect(mostBuffered.load(ordering: .relaxed) <= 160, "the poll thread ran ahead of the buffer limit")
        let evictions = lines.all.withLock { $0 }.filter { $0.contains("poll interval") || $0.contains("MAXPOLL") }
        #expect(evictions.isEmpty, "\(evictions.prefix(2))")
    }
}
