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
            (Self.traceName, Self.traceText(trace)),
        ]
    }

    /// Appends the `content-type` value of message type `M` to `buffer`, without building a string.
    public static func writeContentType<M: ProtoMessage>(of type: M.Type, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: "application/x-protobuf; message=".utf8)
        buffer.append(contentsOf: M.protoName.utf8)
    }

    /// The trace value `topic/partition/offset`.
    static func traceText(_ trace: SourcePosition) -> String {
        var bytes: [UInt8] = []
        writeTrace(trace, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
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
        let magnitude = value.magnitude
        // Digits from the most significant down, so nothing is written twice or reversed.
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        repeat {
            buffer.append(UInt8(ascii: "0") + UInt8(magnitude / divisor % 10))
            divisor /= 10
        } while divisor > 0
    }

    /// Whether `value` is a trace value as `parseTrace` reads it, checked on the bytes without making strings
    /// (normalize copies the trace of every record it reads, and only a valid one).
    public static func isTrace(_ value: [UInt8]) -> Bool {
        traceParts(value) != nil
    }

    /// Reads the trace header back: `topic/partition/offset` with a Kafka topic name (1 to 249 of
    /// `a-z A-Z 0-9 . _ -`, not `.` or `..`), a partition that fits an `int32` and an offset that fits an
    /// `int64`, both decimal without a sign or leading zero. Anything else is nil: a header carried from record
    /// to record must not carry text.
    public static func parseTrace(_ value: String) -> SourcePosition? {
        let bytes = Array(value.utf8)
        guard let parts = traceParts(bytes) else { return nil }
        return SourcePosition(topic: String(decoding: bytes[parts.topic], as: UTF8.self), partition: parts.partition, offset: parts.offset)
    }

    private static func traceParts(_ bytes: [UInt8]) -> (topic: Range<Int>, partition: Int32, offset: Int64)? {
        var end = bytes.count
        /// The decimal number ending at `end` after a `/`, at most `limit`; moves `end` to that `/`.
        func number(atMost limit: Int64) -> Int64? {
            var start = end
            while start > 0, bytes[start - 1] >= UInt8(ascii: "0"), bytes[start - 1] <= UInt8(ascii: "9") { start -= 1 }
            // Digits as `topic/partition/offset` writes them: no sign, no leading zero.
            guard start < end, start > 0, bytes[start - 1] == UInt8(ascii: "/"), bytes[start] != UInt8(ascii: "0") || end - start == 1 else { return nil }
            var value: Int64 = 0
            for byte in bytes[start..<end] {
                let (times, overflowed) = value.multipliedReportingOverflow(by: 10)
                let (sum, carried) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                guard !overflowed, !carried, sum <= limit else { return nil }
                value = sum
            }
            end = start - 1
            return value
        }
        guard let offset = number(atMost: .max), let partition = number(atMost: Int64(Int32.max)) else { return nil }
        let topic = 0..<end
        guard (1...249).contains(topic.count), bytes[topic].allSatisfy(isTopicNameByte),
            !(topic.count <= 2 && bytes[topic].allSatisfy({ $0 == UInt8(ascii: ".") }))
        else { return nil }
        return (topic, Int32(partition), offset)
    }

    /// The characters Kafka allows in a topic name.
    private static func isTopicNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// The message name in a `content-type` value, or nil if it is not a protobuf content type.
    public static func messageName(inContentType value: String) -> String? {
        guard value.hasPrefix("application/x-protobuf") else { return nil }
        guard let range = value.range(of: "message=") else { return nil }
        return String(value[range.upperBound...]).trimmingCharacters(in: .whitespaces)
    }
}
