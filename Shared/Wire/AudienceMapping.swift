/// Our audience → the destination's audience id, per connection, on the compacted `cohortsync.audiences.v1`.
public struct AudienceMapping: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.AudienceMapping"
    public var connectionID = ""
    public var audienceID = ""
    /// Identifier scope for one-audience-per-identifier naming (`email`), empty for a single audience.
    public var scope = ""
    public var destination = Destination.unspecified
    public var destinationAudienceID = ""
    public var name = ""
    public var createdAtMilliseconds: Int64 = 0
    public var deleted = false
    /// A record written before a create is sent, without the destination's id yet (`created_at_ms` is when):
    /// the audience may or may not exist, so the next owner looks for it before creating one. It is also
    /// marked `deleted`, so a version that does not know intents reads it as no audience, as before them.
    public var createIntent = false

    public init(
        connectionID: String = "", audienceID: String = "", scope: String = "", destination: Destination = .unspecified,
        destinationAudienceID: String = "", name: String = "", createdAtMilliseconds: Int64 = 0, deleted: Bool = false,
        createIntent: Bool = false
    ) {
        self.connectionID = connectionID
        self.audienceID = audienceID
        self.scope = scope
        self.destination = destination
        self.destinationAudienceID = destinationAudienceID
        self.name = name
        self.createdAtMilliseconds = createdAtMilliseconds
        self.deleted = deleted
        self.createIntent = createIntent
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: connectionID = try reader.string(field, "connection_id")
            case 2: audienceID = try reader.string(field, "audience_id")
            case 3: scope = try reader.string(field, "scope")
            case 4: destination = try reader.enumeration(field, "destination")
            case 5: destinationAudienceID = try reader.string(field, "destination_audience_id")
            case 6: name = try reader.string(field, "name")
            case 7: createdAtMilliseconds = try reader.int64(field, "created_at_ms")
            case 8: deleted = try reader.bool(field, "deleted")
            case 9: createIntent = try reader.bool(field, "create_intent")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, connectionID)
        writer.string(2, audienceID)
        writer.string(3, scope)
        writer.enumeration(4, destination)
        writer.string(5, destinationAudienceID)
        writer.string(6, name)
        writer.int64(7, createdAtMilliseconds)
        writer.bool(8, deleted)
        writer.bool(9, createIntent)
    }
}
