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
    private let mappingPartitions: Int32
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
        runner = CallRunner(settings: settings, metrics: metrics, logger: logger, slots: AsyncSlots(count: settings.concurrency))
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
            letters.append(DeadLetter(
                stage: stage, reason: "invalid-batch", source: source, errorCode: "invalid-batch", detail: problem,
                occurredAtMilliseconds: clock(), payloadType: Batch.protoName, payload: value))
        }
        try await producer.send(letters, completion: completion)
        guard !uploads.isEmpty else { return }
        completion.hold(uploads.count)
        let pause = state.withLock { state -> Bool in
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
            let pause = !work.intakePaused && work.tasks.count >= maxQueuedPerPartition
            if pause { work.intakePaused = true }
            state.partitions[partition] = work
            return pause
        }
        if pause { pauseIntake([partition]) }
    }

    /// Runs one batch; a batch cancelled (its partition given back) leaves its count held.
    private func perform(_ upload: BatchUpload, _ completion: BatchCompletion) async {
        guard !Task.isCancelled else { return }
        do {
            try Task.checkCancellation()
            try await run(upload, completion)
            completion.release()
        } catch let error as KafkaError where error.code != .cancelled {
            // A result or dead letter the producer cannot take: the loop stops without storing this poll.
            completion.fail(error)
        } catch {
            // Cancelled: the partition was given back or the stage is stopping; the next owner uploads it again.
        }
    }

    private func finished(_ partition: TopicPartition, _ key: AudienceDirectory.Key, _ id: Int) {
        let resume = state.withLock { state -> Bool in
            guard var work = state.partitions[partition] else { return false }
            work.tasks[id] = nil
            if work.lastOfAudience[key]?.id == id { work.lastOfAudience[key] = nil }
            let resume = work.intakePaused && work.tasks.count <= maxQueuedPerPartition / 2
            if resume { work.intakePaused = false }
            state.partitions[partition] = work
            return resume
        }
        if resume { resumeIntake([partition]) }
    }

    /// Gives back revoked partitions: their uploads get a short grace to finish, the rest are cancelled
    /// where they wait (a retry, a pause, the rate limiter) and awaited, so nothing more is written for them
    /// once this returns. A creation in flight finishes with its mapping first (see `run`).
    public func revoking(_ partitions: [TopicPartition]) async -> [TopicPartition] {
        await stop(partitions, grace: Self.revocationGrace)
        return partitions
    }

    /// Partitions gone without a finished revocation (a stop after its drain, a lost assignment): their
    /// uploads are cancelled and awaited before the consumer leaves.
    public func abandoned(_ partitions: [TopicPartition]) async {
        await stop(partitions, grace: .zero)
    }

    private func stop(_ partitions: [TopicPartition], grace: Duration) async {
        let (tasks, paused) = state.withLock { state in
            (partitions.flatMap { state.partitions[$0]?.tasks.values.map { $0 } ?? [] }, partitions.filter { state.partitions[$0]?.intakePaused == true })
        }
        if !tasks.isEmpty, grace > .zero {
            let deadline = ContinuousClock.now + grace
            while ContinuousClock.now < deadline, state.withLock({ state in partitions.contains { !(state.partitions[$0]?.tasks.isEmpty ?? true) } }) {
                do {
                    try await Task.sleep(for: .milliseconds(20))
                } catch {
                    break
                }
            }
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        state.withLock { state in
            for partition in partitions { state.partitions[partition] = nil }
        }
        // A partition paused for back-pressure is resumed, so that it is not paused when it comes back.
        if !paused.isEmpty { resumeIntake(paused) }
        if !tasks.isEmpty {
            logger.info("uploads of partitions going away stopped; their unfinished batches go to the next owner", [
                ("partitions", .string(partitions.map(\.description).joined(separator: ","))), ("batches", .integer(tasks.count)),
            ])
        }
    }
}
