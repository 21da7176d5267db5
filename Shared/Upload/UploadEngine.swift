import Destinations
import Foundation
import Kafka
import Observability
import Stage
import Synchronization
import Wire

/// The uploaders' engine, the same for every destination: batches of different audiences upload
/// concurrently (the transport bounds the requests in flight), the batches of one audience strictly in order, and a
/// poll's records are finished (their offsets storable) only when every batch among them is uploaded or
/// dead-lettered and its result and dead letters are acknowledged.
///
/// The handler only queues: each batch becomes a task chained after the previous batch of its audience,
/// and the handler returns at once, holding the poll's completion until its batches are done. So the
/// processing loop never waits on a destination, and a revocation is seen as soon as it arrives, however
/// long an upload retries or a connection stays paused. A partition with too many batches queued is paused
/// at the consumer until its backlog halves.
public final class UploadEngine: Sendable {
    /// How long a revocation lets the revoked partitions' uploads finish before it cancels them.
    static let revocationGrace = Duration.seconds(3)

    let stage: String
    let destination: Destination
    let connections: [String: UploadConnection]
    let directory: AudienceDirectory
    let producer: KafkaProducer
    let runner: CallRunner
    let metrics: UploadMetrics
    let logger: Logger
    let clock: @Sendable () -> Int64
    let mappingPartitions: Int32
    /// The bound on every record written (results, dead letters).
    let recordBytes: Int
    private let maxQueuedPerPartition: Int
    private let pauseIntake: @Sendable ([TopicPartition]) -> Void
    private let resumeIntake: @Sendable ([TopicPartition]) -> Void

    /// The queued and running uploads of one partition.
    private struct PartitionWork {
        /// The last task of each audience, which the next batch of that audience waits for.
        var lastOfAudience: [AudienceDirectory.Key: (id: Int, task: Task<Void, Never>)] = [:]
        var tasks: [Int: Task<Void, Never>] = [:]
        var intakePaused = false
    }

    private struct State {
        var partitions: [TopicPartition: PartitionWork] = [:]
        /// Partitions being given back: nothing more is queued for them until they are assigned again.
        var closing: Set<TopicPartition> = []
        var nextID = 0
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - pauseIntake, resumeIntake: pause and resume partitions at the consumer (back-pressure).
    public init(
        destination: Destination, connections: [UploadConnection], directory: AudienceDirectory, mappingPartitions: Int32,
        producer: KafkaProducer, settings: UploadSettings, metrics: UploadMetrics, logger: Logger,
        pauseIntake: @escaping @Sendable ([TopicPartition]) -> Void, resumeIntake: @escaping @Sendable ([TopicPartition]) -> Void,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        stage = "upload-\(destination.name)"
        self.destination = destination
        self.connections = Dictionary(connections.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.directory = directory
        self.mappingPartitions = mappingPartitions
        self.producer = producer
        runner = CallRunner(settings: settings, metrics: metrics, logger: logger)
        recordBytes = settings.recordBytes
        maxQueuedPerPartition = settings.maxQueuedPerPartition
        self.pauseIntake = pauseIntake
        self.resumeIntake = resumeIntake
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
    }

    /// Reads the audience mappings before the new partitions' batches are handled: their previous owner
    /// wrote its last mapping before giving them up.
    public func assigned(_ partitions: [TopicPartition]) async throws {
        state.withLock { $0.closing.subtract(partitions) }
        try await directory.restore(partitions: mappingPartitions)
    }

    /// Queues the batches of one partition's poll and returns; the poll's completion finishes when they do.
    /// - Throws: a `KafkaError` when a dead letter for an undecodable record cannot be enqueued.
    public func handle(_ records: ConsumerBatch, _ completion: BatchCompletion) async throws {
        let partition = records[records.startIndex].topicPartition
        var uploads: [BatchUpload] = []
        var letters = OutgoingRecords()
        for record in records {
            let source = SourcePosition(topic: record.topic, partition: record.partition, offset: record.offset)
            let value = record.value
            let problem: String
            do throws(WireError) {
                let batch = try Batch(serializedBytes: value)
                guard let invalid = BatchUpload.problem(batch) else {
                    uploads.append(BatchUpload(batch: batch, source: source))
                    continue
                }
                problem = invalid
            } catch {
                problem = error.description
            }
            metrics.deadLettered("invalid-batch")
            logger.error("a batch record is not a valid batch; dead-lettered", [("source", .string(source.label)), ("problem", .string(problem))])
            // The record is kept for a replay unless it would not fit a dead letter: then its position says where it is.
            let fits = value.count <= recordBytes - 16_384
            letters.append(DeadLetter(
                stage: stage, reason: "invalid-batch", source: source, errorCode: "invalid-batch",
                detail: fits ? problem : "\(problem); the record (\(value.count) bytes) is too large to keep here, read it at its source position",
                occurredAtMilliseconds: clock(), payloadType: fits ? Batch.protoName : "", payload: fits ? value : []))
        }
        try await producer.send(letters, completion: completion)
        guard !uploads.isEmpty else { return }
        completion.hold(uploads.count)
        // The consumer's pause only queues an operation inside librdkafka, so it is made under the lock,
        // in step with the state a concurrent `finished` or `stop` reads.
        state.withLock { state in
            // A partition being given back takes nothing more; its counts stay held and it is forgotten.
            guard !state.closing.contains(partition) else { return }
            var work = state.partitions[partition] ?? PartitionWork()
            for upload in uploads {
                let key = AudienceDirectory.Key(upload.batch)
                let id = state.nextID
                state.nextID += 1
                let previous = work.lastOfAudience[key]?.task
                let task = Task { [self] in
                    await previous?.value
                    await self.perform(upload, completion)
                    self.finished(partition, key, id)
                }
                work.lastOfAudience[key] = (id, task)
                work.tasks[id] = task
            }
            if !work.intakePaused, work.tasks.count >= maxQueuedPerPartition {
                work.intakePaused = true
                pauseIntake([partition])
            }
            state.partitions[partition] = work
        }
    }

    /// Runs one batch; a batch cancelled (its partition given back) leaves its count held.
    private func perform(_ upload: BatchUpload, _ completion: BatchCompletion) async {
        guard !Task.isCancelled else { return }
        do {
            try Task.checkCancellation()
            try await run(upload, completion)
            completion.release()
        } catch let error as KafkaError where error.code == .cancelled {
            // Cancelled while waiting for room in the producer: as below.
        } catch is CancellationError {
            // The partition was given back or the stage is stopping; its next owner uploads the batch again.
        } catch let error as KafkaError {
            // A result or dead letter the producer cannot take: the loop stops without storing this poll.
            completion.fail(error)
        } catch {
            completion.fail(KafkaError(code: .client, message: "upload of \(upload.batch.batchID) failed: \(error)"))
        }
    }

    private func finished(_ partition: TopicPartition, _ key: AudienceDirectory.Key, _ id: Int) {
        state.withLock { state in
            guard var work = state.partitions[partition] else { return }
            work.tasks[id] = nil
            if work.lastOfAudience[key]?.id == id { work.lastOfAudience[key] = nil }
            if work.intakePaused, work.tasks.count <= maxQueuedPerPartition / 2 {
                work.intakePaused = false
                resumeIntake([partition])
            }
            state.partitions[partition] = work
        }
    }

    /// Gives back revoked partitions: their uploads get a short grace to finish (none when the partitions
    /// were lost: they are someone else's already), the rest are cancelled where they wait (a retry, a
    /// pause, the rate limiter, a request) and awaited, so nothing more is written for them once this returns.
    /// A creation in flight finishes with its mapping first (see `run`).
    public func revoking(_ partitions: [TopicPartition], lost: Bool) async -> [TopicPartition] {
        await stop(partitions, grace: lost ? .zero : Self.revocationGrace)
        return partitions
    }

    /// Partitions gone without a finished revocation (a stop after its drain, a failure): their uploads are
    /// cancelled and awaited before the consumer leaves.
    public func abandoned(_ partitions: [TopicPartition]) async {
        await stop(partitions, grace: .zero)
    }

    private func stop(_ partitions: [TopicPartition], grace: Duration) async {
        state.withLock { $0.closing.formUnion(partitions) }
        let deadline = ContinuousClock.now + grace
        while grace > .zero, ContinuousClock.now < deadline, !tasks(of: partitions).isEmpty {
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                break
            }
        }
        var stopped = 0
        while true {
            let tasks = tasks(of: partitions)
            if tasks.isEmpty { break }
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
            stopped += tasks.count
        }
        state.withLock { state in
            for partition in partitions { state.partitions[partition] = nil }
            // Resumed whether or not paused here, so no partition comes back paused.
            resumeIntake(partitions)
        }
        if stopped > 0 {
            logger.info("uploads of partitions going away stopped; their unfinished batches go to the next owner", [
                ("partitions", .string(partitions.map(\.description).joined(separator: ","))), ("batches", .integer(stopped)),
            ])
        }
    }

    private func tasks(of partitions: [TopicPartition]) -> [Task<Void, Never>] {
        state.withLock { state in partitions.flatMap { state.partitions[$0]?.tasks.values.map { $0 } ?? [] } }
    }
}
