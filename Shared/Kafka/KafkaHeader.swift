/// A Kafka record header: a name and an optional byte value.
public struct KafkaHeader: Hashable, Sendable {
    public let name: String
    public let value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// A header whose value is the UTF-8 encoding of `value`.
    public init(name: String, string value: String) {
        self.init(name: name, value: Array(value.utf8))
    }
}

extension Array where Element == KafkaHeader {
    /// The value of the first header named `name`, decoded as UTF-8.
    public func string(named name: String) -> String? {
        first { $0.name == name }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}
