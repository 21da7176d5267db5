/// A record a stage refused, on `cohortsync.dlq.v1`: why, where from, and a redacted excerpt.
///
/// `payload` carries the original record only when it holds no raw identifier (hashed records, batches),
/// so `cohortsync dlq replay` can send it again; ingest's refusals never carry one.
public struct DeadLetter: ProtoMessage, Hashable {
    public static let protoName = "cohortsync.v1.DeadLetter"
    public var stage = ""
    public var reason = ""
    public var source = SourcePosition()
    public var redactedExcerpt = ""
    public var errorCode = ""
    public var detail = ""
    public var occurredAtMilliseconds: Int64 = 0
    /// The protobuf name of `payload`, for example `cohortsync.v1.Batch`.
    public var payloadType = ""
    public var payload: [UInt8] = []

    public init(
        stage: String = "", reason: String = "", source: SourcePosition = SourcePosition(), redactedExcerpt: String = "",
        errorCode: String = "", detail: String = "", occurredAtMilliseconds: Int64 = 0, payloadType: String = "", payload: [UInt8] = []
    ) {
        self.stage = stage
        self.reason = reason
        self.source = source
        self.redactedExcerpt = redactedExcerpt
        self.errorCode = errorCode
        self.detail = detail
        self.occurredAtMilliseconds = occurredAtMilliseconds
        self.payloadType = payloadType
        self.payload = payload
    }

    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: stage = try reader.string(field, "stage")
            case 2: reason = try reader.string(field, "reason")
            case 3: source = try reader.message(field, "source")
            case 4: redactedExcerpt = try reader.string(field, "redacted_excerpt")
            case 5: errorCode = try reader.string(field, "error_code")
            case 6: detail = try reader.string(field, "detail")
            case 7: occurredAtMilliseconds = try reader.int64(field, "occurred_at_ms")
            case 8: payloadType = try reader.string(field, "payload_type")
            case 9: payload = try reader.bytes(field, "payload")
            default: try reader.skip(field)
            }
        }
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, stage)
        writer.string(2, reason)
        if source != SourcePosition() { writer.message(3, source) }
        writer.string(4, redactedExcerpt)
        writer.string(5, errorCode)
        writer.string(6, detail)
        writer.int64(7, occurredAtMilliseconds)
        writer.string(8, payloadType)
        writer.bytes(9, payload)
    }
}
