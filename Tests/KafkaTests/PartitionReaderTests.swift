import Dispatch
import Kafka
import Observability
import Synchronization
import Testing

/// `PartitionReader` reads several partitions of several topics with one client, as a restore does.
@Suite("Kafka partition reader on the mock cluster", .timeLimit(.minutes(2)))
struct PartitionReaderTests {
    let logger = Logger(stage: "kafka-tests", minimumLevel: .error)

    @Test("partitions of two topics read at once: every record of each, in offset order, none written after the read began, an empty partition counted 0")
    func readsEveryPartitionInOrder() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("changelog", partitions: 3)
        try cluster.createTopic("mappings", partitions: 2)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        // 10,000 records per partition: more than one call takes, so runs of a partition span calls.
        let perPartition = 10_000
        var deliveries: [PendingDelivery] = []
        for index in 0..<(3 * perPartition) {
            deliveries.append(
                try await producer.send(
                    ProducerRecord(topic: "changelog", key: Array("k\(index)".utf8), value: Array("\(index)".utf8), placement: .partition(Int32(index % 3)))))
        }
        for index in 0..<500 {
            deliveries.append(try await producer.send(ProducerRecord(topic: "mappings", key: nil, value: Array("m\(index)".utf8), placement: .partition(0))))
        }
        for delivery in deliveries { _ = try await delivery.acknowledged() }

        let partitions = (0..<3).map { TopicPartition(topic: "changelog", partition: $0) } + [0, 1].map { TopicPartition(topic: "mappings", partition: $0) }
        let read = Mutex<[TopicPartition: [PartitionEntry]]>([:])
        let calls = Mutex(0)
        // The reader waits in its first hand-over until records were written past the end each partition had
        // when the read began.
        let lateWritten = DispatchSemaphore(value: 0)
        let reading = Task {
            try await PartitionReader.readAll(partitions, configuration: cluster.configuration, logger: logger) { partition, entries in
                read.withLock { $0[partition, default: []] += entries }
                if calls.withLock({ count in defer { count += 1 }; return count == 0 }) { lateWritten.wait() }
            }
        }
        try await waitUntil { calls.withLock { $0 } > 0 }
        for number in Int32(0)..<3 {
            let late = try await producer.send(ProducerRecord(topic: "changelog", key: nil, value: Array("late".utf8), placement: .partition(number)))
            _ = try await late.acknowledged()
        }
        lateWritten.signal()
        let counts = try await reading.value
        try await producer.shutdown()
        let entries = read.withLock { $0 }
        #expect(calls.withLock { $0 } > 3, "the changelog's records came in several runs")
        #expect(counts == Dictionary(uniqueKeysWithValues: partitions.map { ($0, entries[$0]?.count ?? 0) }), "counts are what was handed over")
        for partition in Int32(0)..<3 {
            let got = try #require(entries[TopicPartition(topic: "changelog", partition: partition)])
            let values = got.compactMap { $0.value.map { String(decoding: $0, as: UTF8.self) } }
            #expect(values == stride(from: Int(partition), to: 3 * perPartition, by: 3).map(String.init), "partition \(partition): every record, in order, nothing later")
            #expect(got.map(\.offset) == Array(0..<Int64(perPartition)), "partition \(partition): offsets in order")
        }
        #expect(entries[TopicPartition(topic: "changelog", partition: 1)]?.first?.key == Array("k1".utf8))
        #expect(entries[TopicPartition(topic: "mappings", partition: 0)]?.map { String(decoding: $0.value ?? [], as: UTF8.self) } == (0..<500).map { "m\($0)" })
        #expect(counts[TopicPartition(topic: "mappings", partition: 1)] == 0)
    }
}
