/// What the destination holds for one user of one audience (a `BatcherState` body on the compacted
/// `cohortsync.batcher-state.v1`). A tombstone (null value) means the user holds nothing there.
public struct MemberState: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.MemberState"
    public var connectionID = ""
    public var audienceID = ""
    public var userKey = ""
    /// The hashed identifiers last added at the destination: exactly what an exit must remove.
    public var sent: [HashedIdentifier] = []
    /// Unused (field kept on the wire): snapshot presence is `seenSequence`.
    public var lastSnapshotID = ""
    /// When `sent` was last added at the destination: X expires memberships after 13 months.
    public var updatedAtMilliseconds: Int64 = 0
    /// The audience's snapshot sequence when the user was last seen: a complete snapshot removes those
    /// not seen since it began.
    public var seenSequence: Int64 = 0
    /// The audience's flush that last changed `sent` (0: none). Written before that flush's batches; until
    /// the audience's `confirmedFlush` reaches it, the destination may hold `sent` or `previous`.
    public var flush: Int64 = 0
    /// What `sent` was before that flush.
    public var previous: [HashedIdentifier] = []

    public init(
        connectionID: String = "", audienceID: String = "", userKey: String = "", sent: [HashedIdentifier] = [],
        lastSnapshotID: String = "", updatedAtMilliseconds: Int64 = 0, seenSequence: Int64 = 0, flush: Int64 = 0, previous: [HashedIdentifier] = []
    ) {
        self.connectionID = connectionID
        self.audienceID = audienceID
        self.userKey = userKey
        self.sent = sent
        self.lastSnapshotID = lastSnapshotID
        self.updatedAtMilliseconds = updatedAtMilliseconds
        self.seenSequence = seenSequence
        self.flush = flush
        self.previous = previous
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
            case 7: seenSequence = try reader.int64(field, "seen_sequence")
            case 8: flush = try reader.int64(field, "flush")
            case 9: previous.append(try reader.message(field, "previous"))
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
        writer.int64(7, seenSequence)
        writer.int64(8, flush)
        writer.messages(9, previous)
    }
}
