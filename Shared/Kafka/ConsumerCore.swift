import CRdKafka
import Runtime
import Synchronization

/// The state a consumer's poll thread and its rebalance callback share with the processing side.
///
/// Runs the rebalance protocol: on assignment it assigns (eagerly or incrementally, whichever the group's
/// protocol is) and announces the partitions; on revocation it hands the member a `PartitionRevocation`,
/// waits for it, commits what was stored, and only then gives the partitions up.
final class ConsumerCore: Sendable {
    private struct State {
        var buffered = 0
        var waitingForReader = false
        var eventsEnded = false
        var userPaused: Set<TopicPartition> = []
        /// The revocation the poll thread waits on; completed by `endEvents`, since nobody will read it after.
        var pendingRevocation: PartitionRevocation?
    }

    let configuration: KafkaConsumerConfiguration
    let logger: Logger
    private let state = Mutex(State())
    private let continuation: AsyncThrowingStream<ConsumerEvent, any Error>.Continuation
    let stream: AsyncThrowingStream<ConsumerEvent, any Error>

    init(configuration: KafkaConsumerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        (stream, continuation) = AsyncThrowingStream.makeStream(of: ConsumerEvent.self, bufferingPolicy: .unbounded)
    }

    // MARK: events

    /// Hands a record to the reader. Checking that events have not ended and yielding happen under one lock,
    /// the same one `endEvents` finishes the stream under, so nothing is yielded into a finished stream.
    func deliver(_ record: ConsumerRecord) {
        state.withLock { state in
            guard !state.eventsEnded else { return }
            state.buffered += 1
            continuation.yield(.record(record))
        }
    }

    /// Announces a revocation to the reader, or returns nil when events have ended (nobody would complete it).
    func announceRevocation(_ partitions: [TopicPartition], lost: Bool) -> PartitionRevocation? {
        state.withLock { state in
            guard !state.eventsEnded else { return nil }
            let revocation = PartitionRevocation(partitions: partitions, lost: lost)
            state.pendingRevocation = revocation
            continuation.yield(.revoked(revocation))
            return revocation
        }
    }

    /// The poll thread is done with the announced revocation.
    func revocationSettled() {
        state.withLock { $0.pendingRevocation = nil }
    }

    var bufferedCount: Int { state.withLock { $0.buffered } }

    func recordTaken() {
        state.withLock { $0.buffered -= 1 }
    }

    /// Ends the event sequence at once: the reader gets nothing more, not even what was already buffered, and
    /// a revocation waiting for the reader is completed, so the rebalance and `close()` need not time out.
    /// The poll thread keeps the membership alive until `close()`.
    func endEvents(throwing error: KafkaError? = nil) {
        let pending = state.withLock { state -> PartitionRevocation? in
            state.eventsEnded = true
            if let error { continuation.finish(throwing: error) } else { continuation.finish() }
            defer { state.pendingRevocation = nil }
            return state.pendingRevocation
        }
        pending?.complete()
    }

    var eventsEnded: Bool { state.withLock { $0.eventsEnded } }

    // MARK: flow control

    /// Whether the poll thread should hold off polling: the reader is `maxBufferedRecords` behind.
    ///
    /// Not polling is the back-pressure: librdkafka's own fetch queue fills (bounded by
    /// `queued.max.messages.kbytes`) and it stops fetching, without the purge and re-fetch that pausing
    /// partitions costs. Once full, polling resumes only when the reader is down to half the limit.
    /// Heartbeats continue on librdkafka's threads; a rebalance waits for the buffered records anyway,
    /// since the member must process them before it can hand their partitions back.
    func mustWaitForReader() -> Bool {
        let limit = configuration.maxBufferedRecords
        return state.withLock { state in
            if state.eventsEnded { return false }
            if state.waitingForReader, state.buffered <= limit / 2 { state.waitingForReader = false }
            if !state.waitingForReader, state.buffered >= limit { state.waitingForReader = true }
            return state.waitingForReader
        }
    }

    func userPause(_ handle: OpaquePointer, _ partitions: [TopicPartition]) {
        state.withLock { $0.userPaused.formUnion(partitions) }
        setPaused(handle, partitions, paused: true)
    }

    func userResume(_ handle: OpaquePointer, _ partitions: [TopicPartition]) {
        state.withLock { $0.userPaused.subtract(partitions) }
        setPaused(handle, partitions, paused: false)
    }

    private func setPaused(_ handle: OpaquePointer, _ partitions: [TopicPartition], paused: Bool) {
        guard !partitions.isEmpty else { return }
        let list = RDKafkaClient.makeList(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let error = paused ? rd_kafka_pause_partitions(handle, list) : rd_kafka_resume_partitions(handle, list)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning(
                paused ? "could not pause partitions" : "could not resume partitions",
                [("error", .string(KafkaError.rdkafka(error, code: .consumer, "pause/resume").description))])
        }
    }

    static func assignment(_ handle: OpaquePointer) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return RDKafkaClient.partitions(in: list)
    }

    // MARK: rebalance

    func rebalance(
        _ handle: OpaquePointer, _ error: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
    ) {
        let partitions = RDKafkaClient.partitions(in: list)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        switch error {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if cooperative {
                if let failure = rd_kafka_incremental_assign(handle, list) {
                    logger.error("incremental assign failed", [("error", .string(String(cString: rd_kafka_error_string(failure))))])
                    rd_kafka_error_destroy(failure)
                }
            } else {
                logIfFailed(rd_kafka_assign(handle, list), "assign")
            }
            let userPaused = state.withLock { $0.userPaused }
            setPaused(handle, partitions.filter { userPaused.contains($0) }, paused: true)
            logger.info("partitions assigned", [("partitions", .strings(partitions.map(\.description)))])
            state.withLock { state in
                if !state.eventsEnded { continuation.yield(.assigned(partitions)) }
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(handle) != 0
            logger.info(
                lost ? "partitions lost" : "partitions revoked",
                [("partitions", .strings(partitions.map(\.description)))])
            if let revocation = announceRevocation(partitions, lost: lost) {
                if !revocation.wait(timeout: configuration.revocationTimeout) {
                    logger.warning(
                        "revoked partitions were not finished in time; their unstored records will be redelivered",
                        [("timeout_seconds", .double(configuration.revocationTimeout.inSeconds))])
                }
                revocationSettled()
            }
            if !lost { commitStored(handle) }
            if cooperative {
                if let failure = rd_kafka_incremental_unassign(handle, list) {
                    logger.error("incremental unassign failed", [("error", .string(String(cString: rd_kafka_error_string(failure))))])
                    rd_kafka_error_destroy(failure)
                }
            } else {
                logIfFailed(rd_kafka_assign(handle, nil), "unassign")
            }
        default:
            logger.error(
                "rebalance failed", [("error", .string(KafkaError.rdkafka(error, code: .consumer, "rebalance").description))])
            logIfFailed(rd_kafka_assign(handle, nil), "unassign")
        }
    }

    private func logIfFailed(_ error: rd_kafka_resp_err_t, _ operation: String) {
        guard error != RD_KAFKA_RESP_ERR_NO_ERROR else { return }
        logger.error("\(operation) failed", [("error", .string(KafkaError.rdkafka(error, code: .consumer, operation).description))])
    }

    /// Synchronously commits the stored offsets. A refusal during a rebalance is logged, not fatal:
    /// the records after the last committed offset are redelivered, which at-least-once allows.
    @discardableResult
    func commitStored(_ handle: OpaquePointer) -> KafkaError? {
        let error = rd_kafka_commit(handle, nil, 0)
        guard error != RD_KAFKA_RESP_ERR_NO_ERROR, error != RD_KAFKA_RESP_ERR__NO_OFFSET else { return nil }
        let kafkaError = KafkaError.rdkafka(error, code: .commit, "offset commit refused")
        logger.warning("offset commit refused; records since the last commit will be redelivered", [("error", .string(kafkaError.description))])
        return kafkaError
    }
}
