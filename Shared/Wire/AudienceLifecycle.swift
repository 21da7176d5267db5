/// An upstream audience was created, renamed or deleted.
public struct AudienceLifecycle: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.AudienceLifecycle"
    public var audienceID = ""
    public var name = ""
    public var event = AudienceEvent.unspecified
    public var eventTimeMilliseconds: Int64 = 0

    public init(audienceID: String = "", name: String = "", event: AudienceEvent = .unspecified, eventTimeMilliseconds: Int64 = 0) {
        self.audienceID = audienceID
        self.name = name
        self.event = event
        self.eventTimeMilliseconds = eventTimeMilliseconds
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: audienceID = try reader.string(field, "audience_id")
            case 2: name = try reader.string(field, "name")
            case 3: event = try reader.enumeration(field, "event")
            case 4: eventTimeMilliseconds = try reader.int64(field, "event_time_ms")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, audienceID)
        writer.string(2, name)
        writer.enumeration(3, event)
        writer.int64(4, eventTimeMilliseconds)
    }
}
