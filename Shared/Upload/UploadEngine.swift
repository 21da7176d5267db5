import Destinations
import Foundation
import Kafka
import Observability
import Stage
import Synchronization
import Wire

/// The uploaders' engine, the same for every destination: batches of different audiences upload
/// concurrently (at most `concurrency` at once), the batches of one audience strictly in order, and a
/// poll's records are finished (their offsets storable) only when every batch among them is uploaded or
/// dead-lettered and its result and dead letters are acknowledged.
public final class UploadEngine: Sendable {
    let stage: String
    let destination: Destination
    let connections: [String: UploadConnection]
    let directory: AudienceDirectory
    let producer: KafkaProducer
    let runner: CallRunner
    let metrics: UploadMetrics
    let logger: Logger
    let clock: @Sendable () -> Int64
    private let mappingPartitions: Int32
    private let slots: AsyncSlots
    /// The running upload work per partition, cancelled when the partition is revoked.
    private let inFlight = Mutex<[TopicPartition: [UUID: Task<Void, any Error>]]>([:])
    /// Partitions being revoked: their work gives its batches back instead of finishing them.
    private let releasing = Mutex<Set<TopicPartition>>([])

    public init(
        destination: Destination, connections: [UploadConnection], directory: AudienceDirectory, mappingPartitions: Int32,
        producer: KafkaProducer, settings: UploadSettings, metrics: UploadMetrics, logger: Logger,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        stage = "upload-\(destination.name)"
        self.destination = destination
        self.connections = Dictionary(connections.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.directory = directory
        self.mappingPartitions = mappingPartitions
        self.producer = producer
        runner = CallRunner(settings: settings, metrics: metrics, logger: logger)
        slots = AsyncSlots(count: settings.concurrency)
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
    }

    /// Reads the audience mappings before the new partitions' batches are handled: their previous owner
    /// wrote its last mapping before giving them up.
    public func assigned(_ partitions: [TopicPartition]) async throws {
        releasing.withLock { $0.subtract(partitions) }
        try await directory.restore(partitions: mappingPartitions)
    }

    /// Stops the revoked partitions' uploads where they wait (a retry, a pause, a request); their batches
    /// go back unfinished and the next owner uploads them again, which is harmless.
    public func revoking(_ partitions: [TopicPartition]) {
        let tasks = releasing.withLock { releasing in
            releasing.formUnion(partitions)
            return inFlight.withLock { inFlight in partitions.flatMap { inFlight[$0]?.values.map { $0 } ?? [] } }
        }
        for task in tasks { task.cancel() }
    }

    /// Uploads the batches of one partition's poll.
    /// - Throws: `ProcessingLoop.PartitionReleased` when the partition was revoked meanwhile; a `KafkaError`
    ///   when a result or dead letter could not be enqueued.
    public func handle(_ records: ConsumerBatch, _ completion: BatchCompletion) async throws {
        let partition = records[records.startIndex].topicPartition
        var lanes: [AudienceDirectory.Key: [BatchUpload]] = [:]
        var order: [AudienceDirectory.Key] = []
        var letters = OutgoingRecords()
        for record in records {
            let source = SourcePosition(topic: record.topic, partition: record.partition, offset: record.offset)
            let value = record.value
            do throws(WireError) {
                let batch = try Batch(serializedBytes: value)
                let key = AudienceDirectory.Key(batch)
                if lanes[key] == nil { order.append(key) }
                lanes[key, default: []].append(BatchUpload(batch: batch, source: source))
            } catch {
                metrics.deadLettered("invalid-batch")
                logger.error("a batch record does not decode; dead-lettered", [("source", .string(source.label)), ("error", .string(error.description))])
                letters.append(DeadLetter(
                    stage: stage, reason: "invalid-batch", source: source, errorCode: "wire", detail: error.description,
                    occurredAtMilliseconds: clock(), payloadType: Batch.protoName, payload: value))
            }
        }
        try await producer.send(letters, completion: completion)
        let work = Task { [self, order, lanes] in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for key in order {
                    let uploads = lanes[key] ?? []
                    group.addTask {
                        await self.slots.acquire()
                        defer { self.slots.release() }
                        for upload in uploads {
                            try Task.checkCancellation()
                            try await self.run(upload, completion)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let id = UUID()
        let releasedAlready = releasing.withLock { releasing in
            inFlight.withLock { $0[partition, default: [:]][id] = work }
            return releasing.contains(partition)
        }
        if releasedAlready { work.cancel() }
        defer { _ = inFlight.withLock { $0[partition]?.removeValue(forKey: id) } }
        do {
            try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
        } catch {
            if releasing.withLock({ $0.contains(partition) }) { throw ProcessingLoop.PartitionReleased() }
            throw error
        }
    }
}
