import Foundation
import Kafka
import Observability
import Synchronization
import TestSupport

/// Reads topics with a fresh group and keeps every record; a test picks its own records by their trace header
/// or offsets. From the beginning by default: a consumer at the end fixes its start offset some time after it
/// is assigned, and records produced in between are missed, so a test that starts at the end must resend
/// until it sees an answer. Starting at the end spares reading a large shared backlog.
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
        consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                groupID: TestBroker.uniqueName("tail"), topics: topics,
                kafka: KafkaConfiguration(properties: [
                    "bootstrap.servers": TestBroker.bootstrapServers, "auto.offset.reset": fromEnd ? "latest" : "earliest",
                    // The local broker answers a fetch with a partition's whole backlog (docs/development.md).
                    "receive.message.max.bytes": "1000000000",
                ])),
            logger: logger)
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
