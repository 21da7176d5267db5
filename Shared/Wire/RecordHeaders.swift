import Foundation

/// The headers every internal record carries (DESIGN "Wire formats"), so any record can be traced to its input.
///
/// Kept free of the Kafka module's types: stages turn these pairs into Kafka headers at the edge.
public struct RecordHeaders: Sendable, Equatable {
    public static let contentTypeName = "content-type"
    public static let schemaName = "cohortsync-schema"
    public static let traceName = "cohortsync-trace"
    /// The schema generation of `cohortsync.proto`; bumped only for an incompatible change (none planned).
    public static let schemaVersion = "1"

    /// `application/x-protobuf; message=cohortsync.v1.<Type>`.
    public var contentType: String
    public var schema: String
    /// The upstream record this one derives from.
    public var trace: SourcePosition

    /// Headers for a record of message type `M` derived from `trace`.
    public init<M: ProtoMessage>(for type: M.Type, trace: SourcePosition) {
        contentType = "application/x-protobuf; message=\(M.protoName)"
        schema = Self.schemaVersion
        self.trace = trace
    }

    /// The headers as name/value pairs, trace as `topic/partition/offset`.
    public var pairs: [(name: String, value: String)] {
        [
            (Self.contentTypeName, contentType),
            (Self.schemaName, schema),
            (Self.traceName, "\(trace.topic)/\(trace.partition)/\(trace.offset)"),
        ]
    }

    /// Appends the `content-type` value of message type `M` to `buffer`, without building a string.
    public static func writeContentType<M: ProtoMessage>(of type: M.Type, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: "application/x-protobuf; message=".utf8)
        buffer.append(contentsOf: M.protoName.utf8)
    }

    /// Appends the trace value `topic/partition/offset` to `buffer`, without building a string.
    public static func writeTrace(_ trace: SourcePosition, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: trace.topic.utf8)
        buffer.append(UInt8(ascii: "/"))
        appendDecimal(Int64(trace.partition), to: &buffer)
        buffer.append(UInt8(ascii: "/"))
        appendDecimal(trace.offset, to: &buffer)
    }

    private static func appendDecimal(_ value: Int64, to buffer: inout [UInt8]) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = buffer.count
        repeat {
            buffer.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        buffer[start...].reverse()
    }

    /// Whether `value` is a trace value, `topic/partition/offset` ending in two decimal numbers, as
    /// `parseTrace` reads it, checked on the bytes (normalize copies the trace of every record it reads).
    public static func isTrace(_ value: [UInt8]) -> Bool {
        var index = value.endIndex
        for _ in 0..<2 {
            let end = index
            while index > value.startIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(value[index - 1]) { index -= 1 }
            guard index < end, end - index <= 19, index > value.startIndex, value[index - 1] == UInt8(ascii: "/") else { return false }
            index -= 1
        }
        return true
    }

    /// Reads the trace header back: the topic may itself contain `/`, so partition and offset are taken from the end.
    /// Scans from the end once: normalize reads this header on every record.
    public static func parseTrace(_ value: String) -> SourcePosition? {
        guard let offsetSlash = value.lastIndex(of: "/"), let partitionSlash = value[..<offsetSlash].lastIndex(of: "/"),
            let offset = Int64(value[value.index(after: offsetSlash)...]),
            let partition = Int32(value[value.index(after: partitionSlash)..<offsetSlash])
        else {
            return nil
        }
        return SourcePosition(topic: String(value[..<partitionSlash]), partition: partition, offset: offset)
    }

    /// The message name in a `content-type` value, or nil if it is not a protobuf content type.
    public static func messageName(inContentType value: String) -> String? {
        guard value.hasPrefix("application/x-protobuf") else { return nil }
        guard let range = value.range(of: "message=") else { return nil }
        return String(value[range.upperBound...]).trimmingCharacters(in: .whitespaces)
    }
}
