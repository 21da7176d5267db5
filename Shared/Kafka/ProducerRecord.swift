/// A record to produce.
public struct ProducerRecord: Sendable {
    /// Where librdkafka places the record.
    public enum Placement: Sendable, Equatable {
        /// By the configured partitioner (`murmur2_random`) over the key.
        case byKey
        /// At this partition index, whatever the key (normalize keeps records on their input partition).
        case partition(Int32)

        /// librdkafka's partition argument: `RD_KAFKA_PARTITION_UA` (-1) lets the partitioner choose.
        var partition: Int32 {
            switch self {
            case .byKey: -1
            case .partition(let index): index
            }
        }
    }

    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    public var placement: Placement

    public init(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [], placement: Placement = .byKey) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.placement = placement
    }
}
