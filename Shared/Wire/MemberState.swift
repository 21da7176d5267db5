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
        // Read as the batcher's restore reads it in place, so both take exactly the same bytes.
        var fields = MemberStateView()
        try fields.readMember(&reader)
        self.init(
            connectionID: fields.text(fields.connectionID), audienceID: fields.text(fields.audienceID), userKey: fields.text(fields.userKey),
            sent: fields.sentIdentifiers, lastSnapshotID: fields.text(fields.lastSnapshotID), updatedAtMilliseconds: fields.updatedAtMilliseconds,
            seenSequence: fields.seenSequence, flush: fields.flush, previous: fields.previous)
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
