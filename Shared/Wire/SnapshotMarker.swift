/// Start or end of a full snapshot of an audience, written by ingest to every partition of `members`
/// and forwarded by normalize to the same partition index of `hashed`.
public struct SnapshotMarker: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.SnapshotMarker"
    public var audienceID = ""
    public var snapshotID = ""
    public var phase = SnapshotPhase.unspecified
    /// End only: the member count the CDP announced.
    public var declaredMembers: Int64 = 0
    /// End only: the members ingest counted.
    public var receivedMembers: Int64 = 0
    /// End only: counts match and the snapshot ended in order. Removals are allowed only when true.
    public var complete = false
    /// The number of partitions the marker was written to.
    public var partitionCount: Int32 = 0
    /// Begin only: when the snapshot began (the begin record's Kafka timestamp, milliseconds since the epoch;
    /// 0 unknown). Its members were true then, whenever they are written: the batcher orders them against
    /// consent withdrawals by it, even when ingest lost the begin (a restart) and timed them by their own records.
    public var beganAtMilliseconds: Int64 = 0

    public init(
        audienceID: String = "", snapshotID: String = "", phase: SnapshotPhase = .unspecified, declaredMembers: Int64 = 0,
        receivedMembers: Int64 = 0, complete: Bool = false, partitionCount: Int32 = 0, beganAtMilliseconds: Int64 = 0
    ) {
        self.audienceID = audienceID
        self.snapshotID = snapshotID
        self.phase = phase
        self.declaredMembers = declaredMembers
        self.receivedMembers = receivedMembers
        self.complete = complete
        self.partitionCount = partitionCount
        self.beganAtMilliseconds = beganAtMilliseconds
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: audienceID = try reader.string(field, "audience_id")
            case 2: snapshotID = try reader.string(field, "snapshot_id")
            case 3: phase = try reader.enumeration(field, "phase")
            case 4: declaredMembers = try reader.int64(field, "declared_members")
            case 5: receivedMembers = try reader.int64(field, "received_members")
            case 6: complete = try reader.bool(field, "complete")
            case 7: partitionCount = try reader.int32(field, "partition_count")
            case 8: beganAtMilliseconds = try reader.int64(field, "began_at_ms")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, audienceID)
        writer.string(2, snapshotID)
        writer.enumeration(3, phase)
        writer.int64(4, declaredMembers)
        writer.int64(5, receivedMembers)
        writer.bool(6, complete)
        writer.int32(7, partitionCount)
        writer.int64(8, beganAtMilliseconds)
    }
}
