/// An item of a batch the destination refused, by its index in the batch.
public struct ItemError: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.ItemError"
    public var index: Int32 = 0
    public var code = ""
    public var message = ""

    public init(index: Int32 = 0, code: String = "", message: String = "") {
        self.index = index
        self.code = code
        self.message = message
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: index = try reader.int32(field, "index")
            case 2: code = try reader.string(field, "code")
            case 3: message = try reader.string(field, "message")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.int32(1, index)
        writer.string(2, code)
        writer.string(3, message)
    }
}

/// What one batch did at the destination, on `cohortsync.results.v1`.
public struct BatchResult: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.BatchResult"
    public var batchID = ""
    public var connectionID = ""
    public var audienceID = ""
    public var destinationAudienceID = ""
    public var operation = BatchOperation.unspecified
    public var status = BatchStatus.unspecified
    public var attempted: Int32 = 0
    public var succeeded: Int32 = 0
    public var errors: [ItemError] = []
    public var attempts: Int32 = 0
    public var completedAtMilliseconds: Int64 = 0
    /// From the uploader taking the batch to its outcome, retries and pauses included.
    public var latencyMilliseconds: Int64 = 0

    public init(
        batchID: String = "", connectionID: String = "", audienceID: String = "", destinationAudienceID: String = "",
        operation: BatchOperation = .unspecified, status: BatchStatus = .unspecified, attempted: Int32 = 0, succeeded: Int32 = 0,
        errors: [ItemError] = [], attempts: Int32 = 0, completedAtMilliseconds: Int64 = 0,
        latencyMilliseconds: Int64 = 0
    ) {
        self.batchID = batchID
        self.connectionID = connectionID
        self.audienceID = audienceID
        self.destinationAudienceID = destinationAudienceID
        self.operation = operation
        self.status = status
        self.attempted = attempted
        self.succeeded = succeeded
        self.errors = errors
        self.attempts = attempts
        self.completedAtMilliseconds = completedAtMilliseconds
        self.latencyMilliseconds = latencyMilliseconds
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: batchID = try reader.string(field, "batch_id")
            case 2: connectionID = try reader.string(field, "connection_id")
            case 3: audienceID = try reader.string(field, "audience_id")
            case 4: destinationAudienceID = try reader.string(field, "destination_audience_id")
            case 5: operation = try reader.enumeration(field, "operation")
            case 6: status = try reader.enumeration(field, "status")
            case 7: attempted = try reader.int32(field, "attempted")
            case 8: succeeded = try reader.int32(field, "succeeded")
            case 9: errors.append(try reader.message(field, "errors"))
            case 10: attempts = try reader.int32(field, "attempts")
            case 11: completedAtMilliseconds = try reader.int64(field, "completed_at_ms")
            case 12: latencyMilliseconds = try reader.int64(field, "latency_ms")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, batchID)
        writer.string(2, connectionID)
        writer.string(3, audienceID)
        writer.string(4, destinationAudienceID)
        writer.enumeration(5, operation)
        writer.enumeration(6, status)
        writer.int32(7, attempted)
        writer.int32(8, succeeded)
        writer.messages(9, errors)
        writer.int32(10, attempts)
        writer.int64(11, completedAtMilliseconds)
        writer.int64(12, latencyMilliseconds)
    }
}
