import CRdKafka
import Observability
import Synchronization

/// The state a consumer's poll thread and its rebalance callback share with the processing side.
///
/// Runs the rebalance protocol: on assignment it assigns (eagerly or incrementally, whichever the group's
/// protocol is) and announces the partitions; on revocation it hands the member a `PartitionRevocation`,
/// waits for it, commits what was stored, and only then gives the partitions up.
///
/// Events wait in a queue of its own rather than an `AsyncStream`, so that ending the events drops what is
/// queued at once: nothing is handed out after a stop, and the fetched messages are freed.
final class ConsumerCore: Sendable {
    private struct State {
        var queue: [ConsumerEvent] = []
        var queueHead = 0
        /// The reader waiting for the next event, if it is waiting.
        var waiter: CheckedContinuation<ConsumerEvent?, any Error>?
        /// Records queued and not yet taken by the reader.
        var buffered = 0
        /// Since when the poll thread holds off polling because the reader is `maxBufferedRecords` behind.
        var holdingSince: ContinuousClock.Instant?
        /// The reader stayed behind longer than `maxPollHold`: `backPressurePaused` are paused for it.
        var backPressured = false
        /// Partitions this code paused for the reader; only these are resumed for it.
        var backPressurePaused: Set<TopicPartition> = []
        var eventsEnded = false
        /// Why the events ended, if they ended on an error: the reader must see it, never a clean end.
        var endError: KafkaError?
        var userPaused: Set<TopicPartition> = []
        /// Partitions paused since their assignment until the reader releases them (`pausesNewAssignments`).
        var assignmentHeld: Set<TopicPartition> = []
        /// Partitions paused because a fetch found nothing new (`idleFetchPause`), each until when; only these
        /// are resumed for it. A pause of another kind taking one over removes it from here.
        var idlePaused: [TopicPartition: ContinuousClock.Instant] = [:]
        /// The partitions assigned to this member, as the rebalance callback last set them.
        var assigned: Set<TopicPartition> = []
        /// Revocations announced and not yet taken by the reader, oldest first: completed by `endEvents`, since
        /// nobody will take them after. Records of their partitions still queued are not handed out, even after
        /// the poll thread stopped waiting for one (its partitions are gone, and read again by their next owner).
        var pendingRevocations: [PartitionRevocation] = []
        /// Tasks waiting for the events to end (`waitForEnd`), by ticket; a ticket cancelled before its task
        /// waited is remembered in `cancelledTickets` so the wait returns at once.
        var endWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelledTickets: Set<Int> = []
        var lastTicket = 0
        /// Partitions that already started at `startOffsets`: a later assignment of one resumes as usual.
        var started: Set<TopicPartition> = []

        mutating func pop() -> ConsumerEvent? {
            guard queueHead < queue.count else { return nil }
            let event = queue[queueHead]
            queueHead += 1
            if queueHead == queue.count {
                queue.removeAll(keepingCapacity: true)
                queueHead = 0
            } else if queueHead > 64, queueHead * 2 > queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            return event
        }
    }

    let configuration: KafkaConsumerConfiguration
    let logger: Logger
    /// Used only by the poll thread (and the rebalance callback, which runs on it).
    let assembler = BatchAssembler()
    private let state = Mutex(State())

    init(configuration: KafkaConsumerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: events

    /// Queues an event for the reader, or hands it to the reader waiting for one. Checking that events have
    /// not ended and queueing happen under the lock `endEvents` ends them under, so nothing is queued after.
    /// Returns false when the events have ended.
    @discardableResult
    private func enqueue(_ event: ConsumerEvent, count: Int = 0, update: (inout State) -> Void = { _ in }) -> Bool {
        let waiter = state.withLock { state -> CheckedContinuation<ConsumerEvent?, any Error>?? in
            guard !state.eventsEnded else { return .none }
            update(&state)
            state.buffered += count
            if let waiter = state.waiter {
                state.waiter = nil
                return .some(waiter)
            }
            state.queue.append(event)
            return .some(nil)
        }
        switch waiter {
        case .none: return false
        case .some(let waiter?): waiter.resume(returning: event)
        case .some(nil): break
        }
        return true
    }

    /// Hands the records the poll thread collected to the reader. Called by the poll thread after each poll
    /// and before any rebalance is announced.
    func deliverAssembled() {
        guard let batch = assembler.take() else { return }
        enqueue(.records(batch), count: batch.count)
    }

    /// Tells the reader about newly assigned partitions.
    func announceAssignment(_ partitions: [TopicPartition]) {
        enqueue(.assigned(partitions))
    }

    /// Announces a revocation to the reader, or returns nil when events have ended (nobody would complete it).
    func announceRevocation(_ partitions: [TopicPartition], lost: Bool) -> PartitionRevocation? {
        let revocation = PartitionRevocation(partitions: partitions, lost: lost)
        return enqueue(.revoked(revocation), update: { $0.pendingRevocations.append(revocation) }) ? revocation : nil
    }

    /// The next event for the reader: waits for one; nil once the events ended cleanly, the error if they
    /// ended on one. Cancelling the waiting reader ends the events.
    ///
    /// Once the events ended nothing more is handed out, even what is still queued. Records of partitions
    /// being revoked are skipped, so the revocation is not kept waiting behind them (their next owner reads
    /// them again). A revocation handed out is the reader's to complete from then on, not `endEvents`'.
    func next() async throws -> ConsumerEvent? {
        while true {
            guard let event = try await take() else { return nil }
            switch event {
            case .records(let batch):
                // Taken and accounted under the lock `endEvents` ends under: nothing goes out after the end.
                let revoking = state.withLock { state -> [TopicPartition]?? in
                    guard !state.eventsEnded else { return .none }
                    state.buffered -= batch.count
                    return .some(state.pendingRevocations.isEmpty ? nil : state.pendingRevocations.flatMap(\.partitions))
                }
                guard case .some(let partitions) = revoking else { return try endOfEvents() }
                guard let partitions else { return event }
                let kept = batch.excluding(partitions)
                if !kept.isEmpty { return .records(kept) }
            case .revoked(let revocation):
                let ended = state.withLock { state in
                    state.pendingRevocations.removeAll { $0 === revocation }
                    return state.eventsEnded
                }
                // Ended meanwhile: `endEvents` completed it, and the reader gets the end instead.
                if ended { return try endOfEvents() }
                return event
            case .assigned:
                return event
            }
        }
    }

    private func take() async throws -> ConsumerEvent? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ConsumerEvent?, any Error>) in
                let ready = state.withLock { state -> Result<ConsumerEvent?, KafkaError>? in
                    if state.eventsEnded { return state.endError.map { .failure($0) } ?? .success(nil) }
                    if let event = state.pop() { return .success(event) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready.mapError { $0 as any Error }) }
            }
        } onCancel: {
            endEvents()
        }
    }

    /// How the events ended: nil while they go on; `.success` for a stop, the error for a fatal one.
    var end: Result<Void, KafkaError>? {
        state.withLock { state in
            guard state.eventsEnded else { return nil }
            return state.endError.map { .failure($0) } ?? .success(())
        }
    }

    /// What `next()` answers once the events ended: nil for a stop, the error for a fatal one.
    private func endOfEvents() throws -> ConsumerEvent? {
        if case .failure(let error)? = end { throw error }
        return nil
    }

    /// Returns once the events have ended, whatever ended them, or the waiting task is cancelled.
    func waitForEnd() async {
        let ticket = state.withLock { state in
            state.lastTicket += 1
            return state.lastTicket
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let returnNow = state.withLock { state in
                    if state.eventsEnded || state.cancelledTickets.remove(ticket) != nil { return true }
                    state.endWaiters[ticket] = continuation
                    return false
                }
                if returnNow { continuation.resume() }
            }
        } onCancel: {
            let waiting = state.withLock { state in
                let waiting = state.endWaiters.removeValue(forKey: ticket)
                if waiting == nil && !state.eventsEnded { state.cancelledTickets.insert(ticket) }
                return waiting
            }
            waiting?.resume()
        }
    }

    var bufferedCount: Int { state.withLock { $0.buffered } }

    /// Ends the events at once: the reader gets nothing more, not even what was queued (freed here), and a
    /// revocation waiting for the reader is completed, so the rebalance and `close()` need not time out.
    /// The poll thread keeps the membership alive until `close()`.
    func endEvents(throwing error: KafkaError? = nil) {
        let (dropped, waiters, pending, endError) = state.withLock { state in
            if !state.eventsEnded { state.endError = error }
            state.eventsEnded = true
            let dropped = state.queue
            state.queue = []
            state.queueHead = 0
            state.buffered = 0
            state.idlePaused = [:]
            defer {
                state.pendingRevocations = []
                state.waiter = nil
                state.endWaiters = [:]
            }
            return (dropped, (reader: state.waiter, ended: state.endWaiters), state.pendingRevocations, state.endError)
        }
        if let endError {
            waiters.reader?.resume(throwing: endError)
        } else {
            waiters.reader?.resume(returning: nil)
        }
        for waiter in waiters.ended.values { waiter.resume() }
        for revocation in pending { revocation.complete() }
        // The queued batches are released here, outside the lock: that frees their messages.
        withExtendedLifetime(dropped) {}
    }

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
        // The pause and resume calls only queue work inside librdkafka; making them under the lock keeps the
        // flags and librdkafka's view in step with a concurrent `pause`/`resume` of the stage.
        return state.withLock { state -> Bool in
            if state.eventsEnded { return true }
            let caughtUp = state.buffered <= limit / 2
            if state.backPressured {
                guard caughtUp else { return true }
                state.backPressured = false
                let resumed = state.backPressurePaused.subtracting(state.userPaused)
                state.backPressurePaused = []
                setPaused(handle, Array(resumed), paused: false)
                logger.info("the reader caught up: partitions resumed", [("buffered", .int(Int64(state.buffered)))])
                return true
            }
            if let since = state.holdingSince {
                if caughtUp {
                    state.holdingSince = nil
                    return true
                }
                guard now - since >= configuration.maxPollHold else { return false }
                state.holdingSince = nil
                state.backPressured = true
                // Partitions paused for being idle are the reader's from now on, resumed when it catches up.
                state.idlePaused = [:]
                let paused = state.assigned.subtracting(state.userPaused).subtracting(state.assignmentHeld)
                state.backPressurePaused = paused
                setPaused(handle, Array(paused), paused: true)
                logger.info("the reader stays behind: partitions paused while polling goes on", [("buffered", .int(Int64(state.buffered)))])
                return true
            }
            guard state.buffered >= limit else { return true }
            state.holdingSince = now
            return false
        }
    }

    /// How long the next poll waits for a first record, in milliseconds: 100, or less when a partition's idle
    /// pause ends sooner, so it is resumed on time.
    var firstPollTimeout: Int32 {
        guard configuration.idleFetchPause != nil else { return 100 }
        let now = ContinuousClock.now
        return state.withLock { state in
            guard !state.eventsEnded, let next = state.idlePaused.values.min() else { return 100 }
            return max(1, min(100, (next - now).inMilliseconds))
        }
    }

    /// Resumes the partitions whose idle pause has ended and returns them, for a `FetchWaker`. Called by the
    /// poll thread before each poll.
    func resumeIdle(_ handle: OpaquePointer) -> [TopicPartition] {
        guard configuration.idleFetchPause != nil else { return [] }
        let now = ContinuousClock.now
        return state.withLock { state -> [TopicPartition] in
            guard !state.eventsEnded, !state.idlePaused.isEmpty else { return [] }
            let due = state.idlePaused.compactMap { $0.value <= now ? $0.key : nil }
            for partition in due { state.idlePaused[partition] = nil }
            setPaused(handle, due, paused: false)
            return due
        }
    }

    /// Called by the poll thread when a fetch of `partition` came back empty at its end (librdkafka's
    /// partition-EOF, reported again after every resume): with `idleFetchPause`, pauses it for that long unless
    /// another pause holds it, so a caught-up member does not fetch in a loop from a broker that answers empty
    /// fetches at once. The first `resumeIdle` after the pause resumes it, from the record after the last one
    /// the poll thread took.
    func pauseIdle(_ handle: OpaquePointer, _ partition: TopicPartition) {
        guard let pause = configuration.idleFetchPause else { return }
        let until = ContinuousClock.now + pause
        state.withLock { state in
            guard !state.eventsEnded, !state.backPressured, state.holdingSince == nil, state.idlePaused[partition] == nil,
                state.assigned.contains(partition), !state.userPaused.contains(partition), !state.assignmentHeld.contains(partition)
            else { return }
            state.idlePaused[partition] = until
            setPaused(handle, [partition], paused: true)
        }
    }

    /// The partitions paused for being idle now.
    var idlePausedPartitions: Set<TopicPartition> { state.withLock { Set($0.idlePaused.keys) } }

    /// How many records the next poll may collect: up to a batch, as far as the buffer limit allows.
    var pollRoom: Int {
        let limit = configuration.maxBufferedRecords
        let batch = max(configuration.maxBatchRecords, 1)
        return state.withLock { state in
            state.eventsEnded ? batch : min(batch, max(limit - state.buffered, 1))
        }
    }

    func userPause(_ handle: OpaquePointer, _ partitions: [TopicPartition]) {
        state.withLock { state in
            state.userPaused.formUnion(partitions)
            state.backPressurePaused.subtract(partitions)
            for partition in partitions { state.idlePaused[partition] = nil }
            setPaused(handle, partitions, paused: true)
        }
    }

    /// Resumes only what `userPause` paused: librdkafka 2.0 restarts the fetch of a partition resumed while
    /// not paused from an earlier position, which would hand out its records twice.
    func userResume(_ handle: OpaquePointer, _ partitions: [TopicPartition]) {
        state.withLock { state in
            let resumable = partitions.filter { state.userPaused.contains($0) && !state.assignmentHeld.contains($0) }
            state.userPaused.subtract(partitions)
            resume(handle, resumable, &state)
        }
    }

    /// Lets partitions held since their assignment be fetched; those no longer held (revoked since, or
    /// released already) are left as they are.
    func releaseAssignment(_ handle: OpaquePointer, _ partitions: [TopicPartition]) {
        state.withLock { state in
            let released = partitions.filter { state.assignmentHeld.contains($0) }
            state.assignmentHeld.subtract(released)
            resume(handle, released.filter { !state.userPaused.contains($0) }, &state)
        }
    }

    /// Resumes `partitions` now, or, while the reader is behind, with the rest once it catches up.
    private func resume(_ handle: OpaquePointer, _ partitions: [TopicPartition], _ state: inout State) {
        if state.backPressured {
            state.backPressurePaused.formUnion(partitions)
        } else {
            setPaused(handle, partitions, paused: false)
        }
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
        // Records collected in this poll before the rebalance go out before it is announced.
        deliverAssembled()
        let partitions = RDKafkaClient.partitions(in: list)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        switch error {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            // Partitions assigned for the first time with a start offset: they start there, and the offset is
            // stored below, so the group commits it and a later assignment resumes from it, not from the reset.
            var starting: [TopicPartition: Int64] = [:]
            if let list, !configuration.startOffsets.isEmpty {
                let first = state.withLock { state in
                    defer { state.started.formUnion(partitions) }
                    return partitions.map { !state.started.contains($0) }
                }
                for index in 0..<Int(list.pointee.cnt) where first[index] {
                    if let offset = configuration.startOffsets[partitions[index]] {
                        list.pointee.elems[index].offset = offset
                        starting[partitions[index]] = offset
                    }
                }
            }
            if cooperative {
                if let failure = rd_kafka_incremental_assign(handle, list) {
                    logger.error("incremental assign failed", [("error", .string(String(cString: rd_kafka_error_string(failure))))])
                    rd_kafka_error_destroy(failure)
                }
            } else {
                logIfFailed(rd_kafka_assign(handle, list), "assign")
            }
            if !starting.isEmpty {
                let stored = RDKafkaClient.makeList(Array(starting.keys), offsets: starting)
                defer { rd_kafka_topic_partition_list_destroy(stored) }
                logIfFailed(rd_kafka_offsets_store(handle, stored), "store start offsets")
            }
            // New partitions join the pause of a reader that is behind, or the user's pause; all of them are
            // held when the configuration pauses new assignments, until the reader releases them.
            state.withLock { state in
                state.assigned.formUnion(partitions)
                if configuration.pausesNewAssignments { state.assignmentHeld.formUnion(partitions) }
                let paused = partitions.filter { state.backPressured || state.userPaused.contains($0) || state.assignmentHeld.contains($0) }
                if state.backPressured {
                    state.backPressurePaused.formUnion(paused.filter { !state.userPaused.contains($0) && !state.assignmentHeld.contains($0) })
                }
                setPaused(handle, paused, paused: true)
            }
            logger.info("partitions assigned", [("partitions", .strings(partitions.map(\.description)))])
            announceAssignment(partitions)
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
            }
            if !lost { commitStored(handle) }
            // librdkafka keeps a partition's pause flag across unassignment: clear it, or a partition paused
            // here and assigned again later would never be fetched. The user's pauses are re-applied on assignment.
            state.withLock { state in
                state.backPressurePaused.subtract(partitions)
                state.assignmentHeld.subtract(partitions)
                state.assigned.subtract(partitions)
                for partition in partitions { state.idlePaused[partition] = nil }
                setPaused(handle, partitions, paused: false)
            }
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
            // librdkafka keeps pause flags across unassignment: the idle pauses are undone before they are forgotten.
            state.withLock { state in
                setPaused(handle, Array(state.idlePaused.keys), paused: false)
                state.assigned = []
                state.idlePaused = [:]
            }
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
