import CRdKafka
import Observability

/// An idempotent Kafka producer (`enable.idempotence=true`, `acks=all`) whose sends report delivery asynchronously.
///
/// Records of one key keep their order, are written once per send even across broker retries, and count as
/// delivered only when every in-sync replica has them. A stage stores an input batch's offsets only after
/// the `BatchCompletion` of everything produced for it reported success.
public final class KafkaProducer: Sendable {
    /// Defaults a configuration may override.
    static let defaults = [
        "partitioner": "murmur2_random",
        "linger.ms": "5",
        "compression.codec": "lz4",
        "message.timeout.ms": "120000",
    ]
    /// Settings at-least-once delivery depends on; they override the configuration.
    static let enforced = ["enable.idempotence": "true", "acks": "all"]

    private let client: RDKafkaClient
    private let poller: PollThread
    private let logger: Logger

    /// Creates the producer and its poll thread.
    /// - Throws: `KafkaError` `.configuration` naming a refused property, or `.clientCreation`.
    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        let effective = configuration.merging(defaults: Self.defaults, enforced: Self.enforced)
        let client = try RDKafkaClient(
            kind: RD_KAFKA_PRODUCER, configuration: effective, context: RDKafkaClientContext(logger: logger)
        ) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
                guard let message, let opaque = message.pointee._private else { return }
                let record = message.pointee
                let failure = record.err == RD_KAFKA_RESP_ERR_NO_ERROR
                    ? nil : KafkaError.rdkafka(record.err, code: .delivery, "the broker did not acknowledge a record")
                switch Unmanaged<AnyObject>.fromOpaque(opaque).takeRetainedValue() {
                case let completion as BatchCompletion:
                    if let failure { completion.fail(failure) } else { completion.release() }
                case let pending as PendingDelivery:
                    if let failure {
                        pending.complete(.failure(failure))
                    } else {
                        let topic = String(cString: rd_kafka_topic_name(record.rkt))
                        pending.complete(.success(DeliveryReport(topic: topic, partition: record.partition, offset: record.offset)))
                    }
                default:
                    break
                }
            }
        }
        self.client = client
        self.logger = logger
        self.poller = PollThread(name: "kafka-producer-poll") {
            _ = rd_kafka_poll(client.handle, 100)
        }
    }

    /// Enqueues every record of `records`; each acknowledgement releases one count of `completion`, and the
    /// first failure fails it. One completion for the whole batch: no object or closure per record.
    ///
    /// When librdkafka's local queue is full this waits (without blocking a thread) for room: that is the
    /// producer's back-pressure.
    /// - Throws: `KafkaError` `.delivery` when a record cannot be enqueued at all (unknown partition,
    ///   oversized record, shutdown); `completion` is failed too, since those records will never be acknowledged.
    ///   `.cancelled` when the task was cancelled while waiting for room; `completion` is left incomplete.
    public func send(_ records: OutgoingRecords, completion: BatchCompletion) async throws(KafkaError) {
        guard !records.isEmpty else { return }
        completion.hold(records.count)
        do {
            try await enqueueAll(records) { Unmanaged.passRetained(completion).toOpaque() }
        } catch {
            // A cancelled wait (a stop) is no failure: the records not enqueued keep their counts, so the
            // batch never completes and its offsets are never stored.
            if error.code != .cancelled { completion.fail(error) }
            throw error
        }
    }

    /// Sends `records` and returns once the broker acknowledged every one of them: for a stateful stage that
    /// may write its changelog only after what the changelog describes is stored.
    /// - Throws: `KafkaError` `.delivery` for the first record not stored, or what `send` throws.
    public func deliver(_ records: OutgoingRecords) async throws(KafkaError) {
        guard !records.isEmpty else { return }
        let waiter = DeliveryWaiter()
        let completion = BatchCompletion { waiter.finish($0) }
        try await send(records, completion: completion)
        completion.release()
        try await waiter.wait().get()
    }

    /// Enqueues one record; the returned delivery completes when the broker acknowledged it. For tools and
    /// tests: a stage sends its outputs in batches.
    /// - Throws: `KafkaError` when the record cannot be enqueued at all (unknown partition, oversized record).
    public func send(_ record: ProducerRecord) async throws(KafkaError) -> PendingDelivery {
        var records = OutgoingRecords()
        records.append(record)
        let pending = PendingDelivery()
        try await enqueueAll(records) { Unmanaged.passRetained(pending).toOpaque() }
        return pending
    }

    /// Enqueues all of `records`, waiting for room in librdkafka's queue as needed. `opaque` makes the
    /// retained object a record's delivery report releases.
    private func enqueueAll(_ records: OutgoingRecords, opaque: () -> UnsafeMutableRawPointer) async throws(KafkaError) {
        var next = 0
        while true {
            let (reached, error) = enqueue(records, from: next, opaque: opaque)
            next = reached
            if next == records.count { return }
            guard error == RD_KAFKA_RESP_ERR__QUEUE_FULL, !poller.isStopping else {
                throw KafkaError.rdkafka(error, code: .delivery, "cannot produce to '\(records.entries[next].topic)'")
            }
            do {
                try await Task.sleep(for: .milliseconds(1))
            } catch {
                throw KafkaError(code: .cancelled, message: "cancelled while waiting for room in the producer queue")
            }
        }
    }

    /// Enqueues records from `start` until one is refused; returns where it stopped and why.
    private func enqueue(_ records: OutgoingRecords, from start: Int, opaque: () -> UnsafeMutableRawPointer) -> (Int, rd_kafka_resp_err_t) {
        // An empty but present key or header needs a non-null pointer even when no byte was written at all.
        let empty: [UInt8] = [0]
        return empty.withUnsafeBytes { emptyBuffer in records.bytes.withUnsafeBytes { buffer in
            let base = buffer.baseAddress ?? emptyBuffer.baseAddress!
            for index in start..<records.entries.count {
                let entry = records.entries[index]
                var headers: OpaquePointer?
                if !entry.headers.isEmpty {
                    headers = rd_kafka_headers_new(entry.headers.count)
                    for header in records.headerEntries[entry.headers] {
                        let added = rd_kafka_header_add(headers, header.name, -1, header.value.map { base + $0.lowerBound }, header.value?.count ?? 0)
                        guard added == RD_KAFKA_RESP_ERR_NO_ERROR else {
                            rd_kafka_headers_destroy(headers)
                            return (index, added)
                        }
                    }
                }
                let context = opaque()
                let error = cohortsync_rd_kafka_produce(
                    client.handle, entry.topic, entry.partition,
                    entry.key.map { base + $0.lowerBound }, entry.key?.count ?? 0,
                    entry.value.map { base + $0.lowerBound }, entry.value?.count ?? 0, headers, context)
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    Unmanaged<AnyObject>.fromOpaque(context).release()
                    if let headers { rd_kafka_headers_destroy(headers) }
                    return (index, error)
                }
            }
            return (records.entries.count, RD_KAFKA_RESP_ERR_NO_ERROR)
        } }
    }

    /// Records enqueued but not yet acknowledged or failed.
    public var outstandingCount: Int { Int(rd_kafka_outq_len(client.handle)) }

    /// Waits up to `timeout` for every enqueued record to be acknowledged, then stops the poll thread.
    ///
    /// Call once at shutdown. Records still outstanding after the timeout fail their deliveries, so their
    /// input offsets are never stored and they are produced again after restart.
    /// - Throws: `KafkaError` `.timeout` naming how many records were left.
    public func shutdown(timeout: Duration = .seconds(10)) async throws(KafkaError) {
        let deadline = ContinuousClock.now + timeout
        while outstandingCount > 0, ContinuousClock.now < deadline {
            do {
                try await Task.sleep(for: .milliseconds(10))
            } catch {
                break
            }
        }
        let left = outstandingCount
        if left > 0 {
            rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
        }
        // One more poll serves the delivery reports of purged records before the thread stops.
        _ = rd_kafka_poll(client.handle, 0)
        poller.stop()
        await poller.join()
        _ = rd_kafka_poll(client.handle, 0)
        if left > 0 {
            logger.error("producer shut down with unacknowledged records", [("records", .integer(left))])
            throw KafkaError(
                code: .timeout,
                message: "\(left) records were not acknowledged within \(timeout); they will be produced again after restart")
        }
    }
}
