/// When one user last withdrew consent, as the batcher keeps it for one audience (a `BatcherState` body).
///
/// A withdrawal reaches a user's other audiences as records normalize writes to their partitions, so it is
/// ordered with those audiences' own records only by when normalize handled each. A membership the CDP
/// wrote before the withdrawal but that arrives after it (a snapshot still in flight, a record read again
/// after a restart) must not add the user back: the batcher compares event times with this one.
public struct WithdrawalState: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.WithdrawalState"
    public var connectionID = ""
    public var audienceID = ""
    public var userKey = ""
    /// The withdrawal's event time (milliseconds since the epoch).
    public var withdrawnAtMilliseconds: Int64 = 0
    /// When the batcher learned of it, by its own clock: what the retention counts from, so a withdrawal
    /// stamped in the future by a wrong clock still expires.
    public var recordedAtMilliseconds: Int64 = 0

    public init(
        connectionID: String = "", audienceID: String = "", userKey: String = "", withdrawnAtMilliseconds: Int64 = 0, recordedAtMilliseconds: Int64 = 0
    ) {
        self.connectionID = connectionID
        self.audienceID = audienceID
        self.userKey = userKey
        self.withdrawnAtMilliseconds = withdrawnAtMilliseconds
        self.recordedAtMilliseconds = recordedAtMilliseconds
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: connectionID = try reader.string(field, "connection_id")
            case 2: audienceID = try reader.string(field, "audience_id")
            case 3: userKey = try reader.string(field, "user_key")
            case 4: withdrawnAtMilliseconds = try reader.int64(field, "withdrawn_at_ms")
            case 5: recordedAtMilliseconds = try reader.int64(field, "recorded_at_ms")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, connectionID)
        writer.string(2, audienceID)
        writer.string(3, userKey)
        writer.int64(4, withdrawnAtMilliseconds)
        writer.int64(5, recordedAtMilliseconds)
    }
}
