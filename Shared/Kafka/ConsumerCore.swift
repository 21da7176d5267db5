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
        /// Since when the poll thread holds off polling because the reader is `maxBufferedRecords` behind.
        var holdingSince: ContinuousClock.Instant?
        /// The assigned partitions are paused because the reader stayed behind longer than `maxPollHold`.
        var backPressured = false
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

    /// Whether the poll thread should poll now, given how far behind the reader is; pauses and resumes the
    /// assigned partitions as needed. Called by the poll thread before each poll.
    ///
    /// Once `maxBufferedRecords` wait for the reader, the poll thread first holds off polling, which keeps
    /// what librdkafka has fetched: a fast reader catches up within moments and nothing is fetched twice.
    /// If the reader is still behind after `maxPollHold` (a slow handler: an uploader waiting on HTTP), every
    /// assigned partition is paused and polling goes on, so rebalances are served and the member is never
    /// evicted for `max.poll.interval.ms`; librdkafka fetches the paused partitions again from the next
    /// undelivered offset after the resume. Either ends when the reader is down to half the limit.
    func shouldPoll(_ handle: OpaquePointer) -> Bool {
        let limit = configuration.maxBufferedRecords
        let now = ContinuousClock.now
        enum Step { case poll, hold, pause, resume }
        let step = state.withLock { state -> Step in
            if state.eventsEnded { return .poll }
            let caughtUp = state.buffered <= limit / 2
            if state.backPressured {
                guard caughtUp else { return .poll }
                state.backPressured = false
                return .resume
            }
            if let since = state.holdingSince {
                if caughtUp {
                    state.holdingSince = nil
                    return .poll
                }
                guard now - since >= configuration.maxPollHold else { return .hold }
                state.holdingSince = nil
                state.backPressured = true
                return .pause
            }
            guard state.buffered >= limit else { return .poll }
            state.holdingSince = now
            return .hold
        }
        switch step {
        case .hold:
            return false
        case .poll:
            return true
        case .pause:
            setPaused(handle, Self.assignment(handle), paused: true)
            logger.info("the reader stays behind: partitions paused while polling goes on", [("buffered", .int(Int64(bufferedCount)))])
        case .resume:
            let userPaused = state.withLock { $0.userPaused }
            setPaused(handle, Self.assignment(handle).filter { !userPaused.contains($0) }, paused: false)
            logger.info("the reader caught up: partitions resumed", [("buffered", .int(Int64(bufferedCount)))])
        }
        return true
    }

    /// Whether the partitions are paused for the reader (for tests and metrics).
    var isBackPressured: Bool { state.withLock { $0.backPressured } }

    func userPause(_ handle: OpaquePointer, _ partitions: [TopicPartition]) {
        state.withLock { $0.userPaused.formUnion(partitions) }
        setPaused(handle, partitions, paused: true)
    }

    func userResume(_ handle: OpaquePointer, _ partitions: [TopicPartition]) {
        let backPressured = state.withLock { state in
            state.userPaused.subtract(partitions)
            return state.backPressured
        }
        // A reader that is behind keeps them paused; they resume with the rest once it catches up.
        if !backPressured { setPaused(handle, partitions, paused: false) }
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
            // New partitions join the pause of a reader that is behind, or the user's pause.
            let (userPaused, backPressured) = state.withLock { ($0.userPaused, $0.backPressured) }
            setPaused(handle, partitions.filter { backPressured || userPaused.contains($0) }, paused: true)
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
