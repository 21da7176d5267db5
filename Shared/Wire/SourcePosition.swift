/// Where a record came from: upstream topic, partition and offset.
public struct SourcePosition: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.SourcePosition"
    public var topic = ""
    public var partition: Int32 = 0
    public var offset: Int64 = 0

    public init(topic: String = "", partition: Int32 = 0, offset: Int64 = 0) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: topic = try reader.string(field, "topic")
            case 2: partition = try reader.int32(field, "partition")
            case 3: offset = try reader.int64(field, "offset")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, topic)
        writer.int32(2, partition)
        writer.int64(3, offset)
    }
}
