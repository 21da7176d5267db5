/// A record read from a topic partition, owned: built by tests and tools, or copied out of a view.
public struct ConsumerRecord: KafkaRecord {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let key: [UInt8]?
    public let value: [UInt8]
    public let headers: [KafkaHeader]
    public let timestampMilliseconds: Int64?

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [],
        timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    public var valueCount: Int { value.count }

    public func header(named name: String) -> [UInt8]?? {
        guard let header = headers.last(where: { $0.name == name }) else { return nil }
        return .some(header.value)
    }
}
