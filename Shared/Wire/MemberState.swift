/// What the destination holds for one user of one audience, on the compacted `cohortsync.batcher-state.v1`.
/// A tombstone (null value) means the user holds nothing there.
public struct MemberState: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.MemberState"
    public var connectionID = ""
    public var audienceID = ""
    public var userKey = ""
    /// The hashed identifiers last added at the destination: exactly what an exit must remove.
    public var sent: [HashedIdentifier] = []
    public var lastSnapshotID = ""
    public var updatedAtMilliseconds: Int64 = 0

    public init(
        connectionID: String = "", audienceID: String = "", userKey: String = "", sent: [HashedIdentifier] = [],
        lastSnapshotID: String = "", updatedAtMilliseconds: Int64 = 0
    ) {
        self.connectionID = connectionID
        self.audienceID = audienceID
        self.userKey = userKey
        self.sent = sent
        self.lastSnapshotID = lastSnapshotID
        self.updatedAtMilliseconds = updatedAtMilliseconds
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: connectionID = try reader.string(field, "connection_id")
            case 2: audienceID = try reader.string(field, "audience_id")
            case 3: userKey = try reader.string(field, "user_key")
            case 4: sent.append(try reader.message(field, "sent"))
            case 5: lastSnapshotID = try reader.string(field, "last_snapshot_id")
            case 6: updatedAtMilliseconds = try reader.int64(field, "updated_at_ms")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, connectionID)
        writer.string(2, audienceID)
        writer.string(3, userKey)
        writer.messages(4, sent)
        writer.string(5, lastSnapshotID)
        writer.int64(6, updatedAtMilliseconds)
    }
}
