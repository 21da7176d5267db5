import CRdKafka
import Observability

/// Owns one librdkafka client handle (`rd_kafka_t`) and frees it when released.
///
/// All librdkafka calls of the module go through the `handle` of one of these. `@unchecked Sendable` is sound:
/// librdkafka documents `rd_kafka_t` as safe to use from any thread, and `handle` never changes after `init`.
final class RDKafkaClient: @unchecked Sendable {
    let handle: OpaquePointer
    let context: RDKafkaClientContext

    /// Creates the handle from `configuration`; `prepare` may install callbacks on the `rd_kafka_conf_t` first.
    init(
        kind: rd_kafka_type_t, configuration: KafkaConfiguration, context: RDKafkaClientContext,
        prepare: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .clientCreation, message: "librdkafka could not allocate a configuration")
        }
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in configuration.properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, name, value, &errorText, errorText.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                let reason = Self.text(errorText)
                let shown = KafkaConfiguration.isSecret(name) ? Redaction.placeholder : value
                throw KafkaError(
                    code: .configuration,
                    message: "librdkafka refused property '\(name)' = '\(shown)': \(reason). "
                        + "Fix the KAFKA_* environment variable that sets it (see librdkafka CONFIGURATION.md).")
            }
        }
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf) { client, level, facility, message in
            guard let client, let context = RDKafkaClientContext.from(client) else { return }
            context.log(level: level, facility: facility, message: message)
        }
        rd_kafka_conf_set_error_cb(conf) { client, error, reason, opaque in
            guard let opaque else { return }
            let context = Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
            context.clientError(error: rd_kafka_resp_err_t(rawValue: error), reason: reason.map { String(cString: $0) } ?? "")
        }
        prepare(conf)
        guard let handle = rd_kafka_new(kind, conf, &errorText, errorText.count) else {
            // On failure rd_kafka_new leaves the configuration to the caller.
            rd_kafka_conf_destroy(conf)
            let reason = Self.text(errorText)
            throw KafkaError(code: .clientCreation, message: "librdkafka could not create a client: \(reason)")
        }
        self.handle = handle
        self.context = context
    }

    deinit {
        rd_kafka_destroy(handle)
    }

    /// The NUL-terminated message librdkafka wrote into an error buffer.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Topic-partition list conversion in both directions; the list returned must be destroyed by the caller.
    static func makeList(_ partitions: [TopicPartition], offsets: [TopicPartition: Int64] = [:])
        -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    {
        let list = rd_kafka_topic_partition_list_new(Int32(max(partitions.count, 1)))!
        for partition in partitions {
            let element = rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)!
            if let offset = offsets[partition] {
                element.pointee.offset = offset
            }
        }
        return list
    }

    /// The partitions in a librdkafka list.
    static func partitions(in list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartition] {
        guard let list, list.pointee.cnt > 0 else { return [] }
        return (0..<Int(list.pointee.cnt)).map { index in
            let element = list.pointee.elems[index]
            return TopicPartition(topic: String(cString: element.topic), partition: element.partition)
        }
    }
}

/// What librdkafka's callbacks reach through the client's opaque pointer: the logger and client-kind hooks.
final class RDKafkaClientContext: Sendable {
    let logger: Logger
    /// Called for errors librdkafka reports outside any request (broker down, fatal idempotence errors).
    let onClientError: @Sendable (KafkaError) -> Void
    /// The group member state a consumer's rebalance callback works on; nil for producers and admin clients.
    let consumer: ConsumerCore?

    init(logger: Logger, consumer: ConsumerCore? = nil, onClientError: @escaping @Sendable (KafkaError) -> Void = { _ in }) {
        self.logger = logger
        self.consumer = consumer
        self.onClientError = onClientError
    }

    static func from(_ client: OpaquePointer) -> RDKafkaClientContext? {
        guard let opaque = rd_kafka_opaque(client) else { return nil }
        return Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }

    func log(level: Int32, facility: UnsafePointer<CChar>?, message: UnsafePointer<CChar>?) {
        // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug.
        let mapped: LogLevel = level <= 3 ? .error : level == 4 ? .warning : level <= 6 ? .info : .debug
        logger.log(
            mapped, "librdkafka",
            [
                ("facility", .string(facility.map { String(cString: $0) } ?? "")),
                ("detail", .string(message.map { String(cString: $0) } ?? "")),
            ])
    }

    func clientError(error: rd_kafka_resp_err_t, reason: String) {
        let kafkaError = KafkaError.rdkafka(error, code: .client, reason)
        let level: LogLevel = kafkaError.isFatal ? .error : .warning
        logger.log(level, "kafka client error", [("error", .string(kafkaError.description)), ("fatal", .bool(kafkaError.isFatal))])
        onClientError(kafkaError)
    }
}
