/// An operator's decision on a snapshot removal the batcher held (`cohortsync holds confirm|discard`),
/// written to every partition of `cohortsync.hashed.v1` so each batcher partition applies it in order.
public struct HoldDecision: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.HoldDecision"
    public var connectionID = ""
    public var audienceID = ""
    public var action = HoldAction.unspecified
    /// The held snapshot this decision is about; a decision about another snapshot is ignored.
    public var snapshotID = ""
    public var decidedAtMilliseconds: Int64 = 0

    public init(connectionID: String = "", audienceID: String = "", action: HoldAction = .unspecified, snapshotID: String = "", decidedAtMilliseconds: Int64 = 0) {
        self.connectionID = connectionID
        self.audienceID = audienceID
        self.action = action
        self.snapshotID = snapshotID
        self.decidedAtMilliseconds = decidedAtMilliseconds
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: connectionID = try reader.string(field, "connection_id")
            case 2: audienceID = try reader.string(field, "audience_id")
            case 3: action = try reader.enumeration(field, "action")
            case 4: snapshotID = try reader.string(field, "snapshot_id")
            case 5: decidedAtMilliseconds = try reader.int64(field, "decided_at_ms")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, connectionID)
        writer.string(2, audienceID)
        writer.enumeration(3, action)
        writer.string(4, snapshotID)
        writer.int64(5, decidedAtMilliseconds)
    }
}
