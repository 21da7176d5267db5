import CRdKafka
import Foundation
import Observability
import Synchronization

/// A consumer-group member with manual offset storing, rebalance handshakes and back-pressure.
///
/// librdkafka auto-commits only offsets the member stored (`enable.auto.offset.store=false`), and a
/// member stores an offset only after the record is processed and everything produced for it is
/// acknowledged (see `ProcessingLoop`). A dedicated thread polls; records and assignment changes arrive,
/// in order, through `events`, which has exactly one reader.
public final class KafkaConsumer: Sendable {
    /// Settings at-least-once processing depends on; they override the configuration.
    static let enforced = ["enable.auto.offset.store": "false"]

    private let client: RDKafkaClient
    let core: ConsumerCore
    private let poller: PollThread
    private let logger: Logger
    private let closeStarted = Atomic(false)

    /// Joins the group and subscribes; assignments arrive as events once polling has begun.
    /// - Throws: `KafkaError` `.configuration` or `.clientCreation`, or `.consumer` if the subscription is refused.
    public init(configuration: KafkaConsumerConfiguration, logger: Logger) throws(KafkaError) {
        guard !configuration.groupID.isEmpty else {
            throw KafkaError(code: .configuration, message: "a consumer needs a non-empty group id")
        }
        guard !configuration.topics.isEmpty else {
            throw KafkaError(code: .configuration, message: "a consumer needs at least one topic to subscribe to")
        }
        if let pause = configuration.idleFetchPause, pause <= .zero {
            throw KafkaError(code: .configuration, message: "idleFetchPause must be positive, or nil to never pause; got \(pause)")
        }
        var enforced = Self.enforced
        enforced["group.id"] = configuration.groupID
        // The idle pause starts on librdkafka's report of an empty fetch at a partition's end.
        if configuration.idleFetchPause != nil { enforced["enable.partition.eof"] = "true" }
        let effective = configuration.kafka.merging(defaults: KafkaConsumerConfiguration.defaults, enforced: enforced)
        let core = ConsumerCore(configuration: configuration, logger: logger)
        let client = try RDKafkaClient(
            kind: RD_KAFKA_CONSUMER, configuration: effective,
            context: RDKafkaClientContext(logger: logger, consumer: core)
        ) { conf in
            rd_kafka_conf_set_rebalance_cb(conf) { handle, error, partitions, opaque in
                guard let handle, let opaque else { return }
                let context = Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
                context.consumer?.rebalance(handle, error, partitions)
            }
        }
        rd_kafka_poll_set_consumer(client.handle)
        let topics = RDKafkaClient.makeList(configuration.topics.map { TopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA) })
        defer { rd_kafka_topic_partition_list_destroy(topics) }
        let subscribed = rd_kafka_subscribe(client.handle, topics)
        guard subscribed == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdkafka(subscribed, code: .consumer, "cannot subscribe to \(configuration.topics)")
        }
        core.assembler.client = client
        self.client = client
        self.core = core
        self.logger = logger
        self.poller = PollThread(
            name: "kafka-consumer-poll",
            step: { [waker = FetchWaker()] in Self.pollOnce(client: client, core: core, waker: waker) },
            finish: {
                let closed = rd_kafka_consumer_close(client.handle)
                if closed != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.warning("consumer close reported an error", [("error", .string(KafkaError.rdkafka(closed, code: .consumer, "close").description))])
                }
                core.endEvents()
            })
    }

    /// Records and assignment changes, in order. Has exactly one reader; ends after `endEvents()` or `close()`,
    /// or throws a fatal `KafkaError`.
    public var events: ConsumerEvents { ConsumerEvents(core: core) }

    /// One poll: waits up to 100 ms for a first message (see `ConsumerCore.firstPollTimeout`), then takes
    /// what else is ready, up to the room the reader's buffer leaves, and hands it out as one batch.
    private static func pollOnce(client: RDKafkaClient, core: ConsumerCore, waker: FetchWaker) {
        if let resumed = core.resumeIdle(client.handle).first { waker.wake(client, for: resumed) }
        guard core.shouldPoll(client.handle) else {
            usleep(1000)
            return
        }
        let room = core.pollRoom
        var timeout = core.firstPollTimeout
        while core.assembler.count < room, let message = rd_kafka_consumer_poll(client.handle, timeout) {
            timeout = 0
            let error = message.pointee.err
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                let endOfPartition = error == RD_KAFKA_RESP_ERR__PARTITION_EOF
                if endOfPartition, let topic = message.pointee.rkt {
                    core.pauseIdle(client.handle, TopicPartition(topic: String(cString: rd_kafka_topic_name(topic)), partition: message.pointee.partition))
                }
                rd_kafka_message_destroy(message)
                if endOfPartition { continue }
                let kafkaError = KafkaError.rdkafka(error, code: .consumer, "consume failed")
                core.logger.log(kafkaError.isFatal ? .error : .warning, "consume error", [("error", .string(kafkaError.description))])
                if kafkaError.isFatal {
                    core.deliverAssembled()
                    core.endEvents(throwing: kafkaError)
                    return
                }
                continue
            }
            core.assembler.add(message)
        }
        core.deliverAssembled()
    }

    /// Stores `nextOffset` (one past the last processed record) for `partition`; committed by the next
    /// auto-commit, revocation or close. Storing for a partition no longer assigned is ignored.
    public func store(_ partition: TopicPartition, nextOffset: Int64) {
        let list = RDKafkaClient.makeList([partition], offsets: [partition: nextOffset])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let error = rd_kafka_offsets_store(client.handle, list)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR && error != RD_KAFKA_RESP_ERR__STATE {
            // Not fatal (the records are redelivered), but an operator must see it: it means duplicates.
            logger.warning(
                "offset not stored; its records will be processed again",
                [("partition", .string(partition.description)), ("error", .string(KafkaError.rdkafka(error, code: .consumer, "store offset").description))])
        }
    }

    /// Commits stored offsets now and waits for the broker's answer (on a thread of its own, not the
    /// cooperative pool). Auto-commit and `close()` commit anyway; this is for tests and tools.
    /// - Throws: `KafkaError` `.commit`; during a rebalance this is expected and retriable.
    public func commit() async throws(KafkaError) {
        let client = client
        let core = core
        if let error = await offCooperativePool({ core.commitStored(client.handle) }) { throw error }
    }

    /// Committed offsets of the given partitions (the next offset a new member would read), from the broker;
    /// asked on a thread of its own, not the cooperative pool.
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError) -> [TopicPartition: Int64] {
        let client = client
        let result = await offCooperativePool { () -> Result<[TopicPartition: Int64], KafkaError> in
            let list = RDKafkaClient.makeList(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let error = rd_kafka_committed(client.handle, list, timeout.inMilliseconds)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                return .failure(KafkaError.rdkafka(error, code: .consumer, "cannot read committed offsets"))
            }
            var offsets: [TopicPartition: Int64] = [:]
            for index in 0..<Int(list.pointee.cnt) {
                let element = list.pointee.elems[index]
                offsets[TopicPartition(topic: String(cString: element.topic), partition: element.partition)] = element.offset
            }
            return .success(offsets)
        }
        return try result.get()
    }

    /// Records handed out by the poll thread and not yet taken by the reader (a lag gauge for metrics).
    public var bufferedRecords: Int { core.bufferedCount }

    /// The partitions currently assigned to this member.
    public var assignment: [TopicPartition] { ConsumerCore.assignment(client.handle) }

    /// One sample of this member's lag (see `lag(timeout:)`).
    public struct LagSample: Sendable {
        /// The partitions assigned when the sample was taken.
        public let assigned: [TopicPartition]
        /// Records beyond the group's committed offset (or, before any commit, beyond the log start), for each
        /// assigned partition whose log end the broker gave within the timeout.
        public let lags: [TopicPartition: Int64]
    }

    /// The consumer lag of each assigned partition as autoscalers such as KEDA count it: the log end minus the
    /// group's committed offset, so records fetched but not yet processed and acknowledged still count; a
    /// partition the group never committed counts from its log start. Both are asked of the broker, on a
    /// thread of its own, within `timeout` in all.
    /// - Throws: `KafkaError` when the committed offsets cannot be read (a rebalance, the broker away): a
    ///   failed sample says nothing, rather than "no lag".
    public func lag(timeout: Duration = .seconds(2)) async throws(KafkaError) -> LagSample {
        let client = client
        let assigned = await offCooperativePool { ConsumerCore.assignment(client.handle) }
        guard !assigned.isEmpty else { return LagSample(assigned: [], lags: [:]) }
        let committed = try await committed(assigned, timeout: timeout)
        let lags = await offCooperativePool { () -> [TopicPartition: Int64] in
            let deadline = ContinuousClock.now + timeout
            var lags: [TopicPartition: Int64] = [:]
            for (partition, offset) in committed {
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { break }
                var low: Int64 = 0
                var high: Int64 = 0
                let answer = rd_kafka_query_watermark_offsets(
                    client.handle, partition.topic, partition.partition, &low, &high, max(remaining.inMilliseconds, 1))
                guard answer == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { continue }
                lags[partition] = max(high - (offset >= 0 ? offset : low), 0)
            }
            return lags
        }
        return LagSample(assigned: assigned, lags: lags)
    }

    /// Stops fetching from these partitions until `resume`; for back-pressure beyond the built-in buffer limit.
    public func pause(_ partitions: [TopicPartition]) { core.userPause(client.handle, partitions) }

    /// Resumes fetching from partitions paused with `pause`; others are left as they are.
    public func resume(_ partitions: [TopicPartition]) { core.userResume(client.handle, partitions) }

    /// Lets newly assigned partitions be fetched once the reader is ready for their records (with the
    /// configuration's `pausesNewAssignments`); partitions revoked since, or not held, are left as they are.
    public func releaseAssignment(_ partitions: [TopicPartition]) { core.releaseAssignment(client.handle, partitions) }

    /// Ends `events` at once (buffered records are not handed out; they are fetched again by whoever owns
    /// their partitions next), so the reader can drain its in-flight work; the membership stays alive until `close()`.
    public func endEvents() { core.endEvents() }

    /// Whether the events ended (`endEvents()`, `close()` or a fatal error): a reader holding records it has
    /// not started on yet leaves them, as it would have if they had still been queued.
    public var eventsEnded: Bool { core.end != nil }

    /// The fatal error the events ended on, if they did; nil while they go on or after a stop.
    public var endError: KafkaError? {
        if case .failure(let error)? = core.end { return error }
        return nil
    }

    /// Returns once the events have ended, whatever ended them (`endEvents()`, `close()`, a fatal error).
    public func waitForEventsToEnd() async { await core.waitForEnd() }

    /// Leaves the group: commits stored offsets, gives partitions back and stops the poll thread. Later calls
    /// return at once.
    ///
    /// Waits at most `timeout` (when given) for librdkafka to finish leaving: a broker that does not answer
    /// must not hold up a shutdown past its grace period. What was not committed then is read again by the
    /// partitions' next owner.
    public func close(timeout: Duration? = nil) async {
        core.endEvents()
        // Later calls return at once: a second wait would add its timeout to a shutdown already late.
        guard closeStarted.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        poller.stop()
        if await !poller.join(timeout: timeout), let timeout {
            logger.warning(
                "leaving the group did not finish in time; uncommitted records will be read again",
                [("timeout_seconds", .double(timeout.inSeconds))])
        }
    }
}

/// The consumer's events as an async sequence with exactly one reader.
public struct ConsumerEvents: AsyncSequence, Sendable {
    public typealias Element = ConsumerEvent
    let core: ConsumerCore

    public struct AsyncIterator: AsyncIteratorProtocol {
        let core: ConsumerCore

        /// The next event: nil after `endEvents()`, the error after a fatal one, and nothing that was still
        /// queued once either happened. Cancelling the waiting reader ends the events.
        public mutating func next() async throws -> ConsumerEvent? {
            try await core.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(core: core)
    }
}
