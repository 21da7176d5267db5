import CRdKafka
import Observability

/// An idempotent Kafka producer (`enable.idempotence=true`, `acks=all`) whose sends report delivery asynchronously.
///
/// Records of one key keep their order, are written once per send even across broker retries, and count as
/// delivered only when every in-sync replica has them. A stage stores an input offset only after all the
/// `PendingDelivery` values it produced for that input completed successfully.
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
                let pending = Unmanaged<PendingDelivery>.fromOpaque(opaque).takeRetainedValue()
                let record = message.pointee
                if record.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    let topic = String(cString: rd_kafka_topic_name(record.rkt))
                    pending.complete(.success(DeliveryReport(topic: topic, partition: record.partition, offset: record.offset)))
                } else {
                    pending.complete(.failure(.rdkafka(record.err, code: .delivery, "the broker did not acknowledge a record")))
                }
            }
        }
        self.client = client
        self.logger = logger
        self.poller = PollThread(name: "kafka-producer-poll") {
            _ = rd_kafka_poll(client.handle, 100)
        }
    }

    /// Enqueues a record; the returned delivery completes when the broker acknowledged it.
    ///
    /// When librdkafka's local queue is full this waits (without blocking a thread) for room: that is the
    /// producer's back-pressure.
    /// - Throws: `KafkaError` when the record cannot be enqueued at all (unknown partition, oversized record).
    public func send(_ record: ProducerRecord) async throws(KafkaError) -> PendingDelivery {
        while true {
            let (error, pending) = enqueue(record)
            if let pending { return pending }
            guard error == RD_KAFKA_RESP_ERR__QUEUE_FULL, !poller.isStopping else {
                throw KafkaError.rdkafka(error, code: .delivery, "cannot produce to '\(record.topic)'")
            }
            do {
                try await Task.sleep(for: .milliseconds(2))
            } catch {
                throw KafkaError(code: .delivery, message: "cancelled while waiting for room in the producer queue")
            }
        }
    }

    private func enqueue(_ record: ProducerRecord) -> (rd_kafka_resp_err_t, PendingDelivery?) {
        let pending = PendingDelivery()
        let opaque = Unmanaged.passRetained(pending).toOpaque()
        let headers = record.headers.isEmpty ? nil : rd_kafka_headers_new(record.headers.count)
        for header in record.headers {
            let added = header.value.map { value in
                value.withUnsafeBytes { bytes in rd_kafka_header_add(headers, header.name, -1, bytes.baseAddress, bytes.count) }
            } ?? rd_kafka_header_add(headers, header.name, -1, nil, 0)
            guard added == RD_KAFKA_RESP_ERR_NO_ERROR else {
                Unmanaged<PendingDelivery>.fromOpaque(opaque).release()
                rd_kafka_headers_destroy(headers)
                return (added, nil)
            }
        }
        let partition: Int32
        switch record.placement {
        case .byKey: partition = RD_KAFKA_PARTITION_UA
        case .partition(let index): partition = index
        }
        let key = record.key ?? []
        let error = key.withUnsafeBytes { keyBytes in
            record.value.withUnsafeBytes { valueBytes in
                cohortsync_rd_kafka_produce(
                    client.handle, record.topic, partition,
                    record.key == nil ? nil : keyBytes.baseAddress, record.key == nil ? 0 : keyBytes.count,
                    valueBytes.baseAddress, valueBytes.count, headers, opaque)
            }
        }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            Unmanaged<PendingDelivery>.fromOpaque(opaque).release()
            if let headers { rd_kafka_headers_destroy(headers) }
            return (error, nil)
        }
        return (error, pending)
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
