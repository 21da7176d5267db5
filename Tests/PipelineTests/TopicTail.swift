import Foundation
import Kafka
import Observability
import Synchronization
import TestSupport

/// Reads topics with a fresh group and keeps every record; a test picks its own records by their trace header
/// or offsets. From the beginning by default; from the topics' ends as they are when it starts (exactly: the
/// start offsets are read from the broker first), which spares reading a large shared backlog.
final class TopicTail: Sendable {
    /// What the reading task shares with the test.
    private final class State: Sendable {
        let records = Mutex<[ConsumerRecord]>([])
        let assigned = Mutex(false)
    }

    private let consumer: KafkaConsumer
    private let state = State()
    private let task: Task<Void, any Error>

    /// Subscribes and returns once the consumer owns its partitions.
    init(_ topics: [String], fromEnd: Bool = false, logger: Logger) async throws {
        let kafka = KafkaConfiguration(properties: [
            "bootstrap.servers": TestBroker.bootstrapServers, "auto.offset.reset": "earliest",
            // The local broker answers a fetch with a partition's whole backlog (docs/development.md).
            "receive.message.max.bytes": "1000000000",
        ])
        var configuration = KafkaConsumerConfiguration(groupID: TestBroker.uniqueName("tail"), topics: topics, kafka: kafka)
        if fromEnd { configuration.startOffsets = try TopicEnds.now(of: topics, kafka: kafka, logger: logger) }
        consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let consumer = self.consumer
        let state = self.state
        task = Task {
            for try await event in consumer.events {
                switch event {
                case .assigned: state.assigned.withLock { $0 = true }
                case .records(let batch): state.records.withLock { $0.append(contentsOf: batch.map(\.copy)) }
                case .revoked(let revocation): revocation.complete()
                }
            }
        }
        try await waitFor("the tail of \(topics) to be assigned", timeout: .seconds(30)) { state.assigned.withLock { $0 } }
    }

    /// Waits until `condition` holds for the records read so far; returns them.
    @discardableResult
    func wait(for what: String, timeout: Duration = .seconds(60), until condition: @escaping @Sendable ([ConsumerRecord]) -> Bool) async throws -> [ConsumerRecord] {
        try await waitFor(what, timeout: timeout) { state.records.withLock { condition($0) } }
        return state.records.withLock { $0 }
    }

    func close() async {
        consumer.endEvents()
        _ = try? await task.value
        await consumer.close()
    }
}

/// Where topics end now, and consumer groups started there: a stage run by a test reads only what the test
/// writes after, however long the shared local broker's backlog is.
enum TopicEnds {
    /// The end offset of every partition of `topics`.
    static func now(of topics: [String], kafka: KafkaConfiguration, logger: Logger) throws -> [TopicPartition: Int64] {
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        var ends: [TopicPartition: Int64] = [:]
        for topic in topics { ends.merge(try admin.endOffsets(of: topic)) { $1 } }
        return ends
    }

    /// Commits `group`'s offsets at the current end of `topic`, so a stage started with that group begins there.
    static func startGroup(_ group: String, atEndOf topic: String, kafka: KafkaConfiguration, logger: Logger) async throws {
        var configuration = KafkaConsumerConfiguration(groupID: group, topics: [topic], kafka: kafka)
        let ends = try now(of: [topic], kafka: kafka, logger: logger)
        configuration.startOffsets = ends
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let owned = Mutex(Set<TopicPartition>())
        // The events are read by a task of their own, so waiting for the assignment has a deadline.
        let reading = Task {
            for try await event in consumer.events {
                switch event {
                case .assigned(let partitions): owned.withLock { $0.formUnion(partitions) }
                case .revoked(let revocation):
                    owned.withLock { $0.subtract(revocation.partitions) }
                    revocation.complete()
                case .records: break
                }
            }
        }
        do {
            try await waitFor("group \(group) to own every partition of \(topic)", timeout: .seconds(30)) {
                owned.withLock { $0 } == Set(ends.keys)
            }
            for (partition, end) in ends { consumer.store(partition, nextOffset: end) }
            try await consumer.commit()
            let committed = try await consumer.committed(Array(ends.keys))
            guard committed == ends else { throw TestSupportError("group \(group) committed \(committed), expected \(ends)") }
        } catch {
            consumer.endEvents()
            _ = try? await reading.value
            await consumer.close()
            throw error
        }
        consumer.endEvents()
        _ = try? await reading.value
        await consumer.close()
    }
}
