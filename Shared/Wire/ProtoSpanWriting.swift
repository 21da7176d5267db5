/// Protobuf fields written straight into an `OutputSpan` whose capacity was sized exactly beforehand: the
/// form of the records a stage writes millions of, with one capacity check per record instead of one per
/// byte. Fields at their default value are omitted, as `ProtoWriter` omits them; sizes count exactly what
/// the writers write.
enum ProtoSpanWriting {
    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var rest = value >> 7
        while rest != 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    static func tagSize(_ number: Int) -> Int { varintSize(UInt64(number) << 3) }

    /// A length-delimited field of `count` bytes, or nothing when it is empty and `omitEmpty`.
    static func lengthDelimitedSize(_ number: Int, count: Int, omitEmpty: Bool = true) -> Int {
        count == 0 && omitEmpty ? 0 : tagSize(number) + varintSize(UInt64(count)) + count
    }

    /// An `int64` (or enum, as `int32` widened) field, nothing when 0.
    static func int64Size(_ number: Int, _ value: Int64) -> Int {
        value == 0 ? 0 : tagSize(number) + varintSize(UInt64(bitPattern: value))
    }
}

extension OutputSpan where Element == UInt8 {
    mutating func protoVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        append(UInt8(value))
    }

    mutating func protoTag(_ number: Int, wireType: UInt8) {
        protoVarint(UInt64(number) << 3 | UInt64(wireType))
    }

    /// A `string` or `bytes` field, nothing when empty.
    mutating func protoBytes(_ number: Int, _ value: Span<UInt8>) {
        guard !value.isEmpty else { return }
        protoTag(number, wireType: 2)
        protoVarint(UInt64(value.count))
        for index in value.indices { append(value[index]) }
    }

    /// An `int64` field (an enum as `int32` widened), nothing when 0.
    mutating func protoInt64(_ number: Int, _ value: Int64) {
        guard value != 0 else { return }
        protoTag(number, wireType: 0)
        protoVarint(UInt64(bitPattern: value))
    }

    /// The header of a sub-message field of `length` bytes, whose fields follow.
    mutating func protoMessageHeader(_ number: Int, length: Int) {
        protoTag(number, wireType: 2)
        protoVarint(UInt64(length))
    }
}
