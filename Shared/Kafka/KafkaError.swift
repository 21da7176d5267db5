import CRdKafka

/// An error from the Kafka module: a stable code, a message that says what to do, and whether a retry can help.
///
/// Modelled on swift-kafka-client's `KafkaError`: callers branch on `code`, `isRetriable` and `isFatal`,
/// never on the message text.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// Stable error codes; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A property was refused by librdkafka or a required setting is missing.
        public static let configuration = Code("configuration")
        /// librdkafka could not create a client handle.
        public static let clientCreation = Code("client-creation")
        /// A record could not be enqueued or was not acknowledged by the broker.
        public static let delivery = Code("delivery")
        /// Subscribing, polling or storing offsets failed.
        public static let consumer = Code("consumer")
        /// librdkafka reported an error outside any request of ours (brokers down, a fatal idempotence error).
        public static let client = Code("client")
        /// An offset commit failed (often harmless during a rebalance: records are redelivered).
        public static let commit = Code("commit")
        /// An admin request (create topics, metadata) failed.
        public static let admin = Code("admin")
        /// The topic does not exist.
        public static let unknownTopic = Code("unknown-topic")
        /// A request did not finish in time.
        public static let timeout = Code("timeout")
        /// The client was already closed.
        public static let closed = Code("closed")
        /// The task waiting on the operation was cancelled (a stop); nothing failed at the broker.
        public static let cancelled = Code("cancelled")
    }

    /// What kind of failure this is.
    public let code: Code
    /// What happened and what to do about it.
    public let message: String
    /// The librdkafka response code (`rd_kafka_resp_err_t`) behind this error, if any.
    public let librdkafkaCode: Int32?
    /// Whether the same operation may succeed if tried again later.
    public let isRetriable: Bool
    /// Whether the client is unusable from now on and must be recreated.
    public let isFatal: Bool

    public init(code: Code, message: String, librdkafkaCode: Int32? = nil, isRetriable: Bool = false, isFatal: Bool = false) {
        self.code = code
        self.message = message
        self.librdkafkaCode = librdkafkaCode
        self.isRetriable = isRetriable
        self.isFatal = isFatal
    }

    public var description: String {
        let rd = librdkafkaCode.map { " (librdkafka \($0))" } ?? ""
        return "kafka \(code): \(message)\(rd)"
    }

    /// Builds an error from a librdkafka response code, with librdkafka's own description appended.
    static func rdkafka(_ error: rd_kafka_resp_err_t, code: Code, _ context: String) -> KafkaError {
        let text = String(cString: rd_kafka_err2str(error))
        return KafkaError(
            code: code, message: "\(context): \(text)", librdkafkaCode: error.rawValue,
            isRetriable: isTransient(error), isFatal: error == RD_KAFKA_RESP_ERR__FATAL)
    }

    /// Response codes that describe a passing condition of the cluster or the client's queue.
    static func isTransient(_ error: rd_kafka_resp_err_t) -> Bool {
        switch error {
        case RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
            RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
            RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
            RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
            return true
        default:
            return false
        }
    }
}
