/// Appends protobuf (proto3) fields to a byte buffer.
///
/// Scalar fields at their default value (0, false, empty) are omitted, as proto3 does; fields of a
/// `oneof` and sub-messages are written whenever they are set.
public struct ProtoWriter: Sendable {
    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    /// A writer appending to `buffer`'s bytes, which it takes over without copying; `give(to:)` hands them back.
    init(taking buffer: inout [UInt8]) {
        swap(&bytes, &buffer)
    }

    /// Hands the bytes back to `buffer` (emptied by `init(taking:)`), without copying.
    mutating func give(to buffer: inout [UInt8]) {
        swap(&bytes, &buffer)
    }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func tag(_ number: Int, _ type: WireType) {
        varint(UInt64(number) << 3 | UInt64(type.rawValue))
    }

    /// A `string` field.
    public mutating func string(_ number: Int, _ value: String) {
        guard !value.isEmpty else { return }
        tag(number, .lengthDelimited)
        varint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// A `bytes` field.
    public mutating func bytes(_ number: Int, _ value: [UInt8]) {
        guard !value.isEmpty else { return }
        tag(number, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// An `int64` field.
    public mutating func int64(_ number: Int, _ value: Int64) {
        guard value != 0 else { return }
        tag(number, .varint)
        varint(UInt64(bitPattern: value))
    }

    /// An `int32` field; negative values take ten bytes, as protobuf specifies.
    public mutating func int32(_ number: Int, _ value: Int32) {
        int64(number, Int64(value))
    }

    /// A `bool` field.
    public mutating func bool(_ number: Int, _ value: Bool) {
        guard value else { return }
        tag(number, .varint)
        varint(1)
    }

    /// An enum field.
    public mutating func enumeration(_ number: Int, _ value: some ProtoEnum) {
        int32(number, value.rawValue)
    }

    /// A sub-message field, written even when empty (presence matters for `oneof` and optional messages).
    ///
    /// Encoded in place after a one-byte length, which is widened afterwards in the rare case the message
    /// takes 128 bytes or more: no buffer per sub-message.
    public mutating func message(_ number: Int, _ value: some ProtoMessage) {
        tag(number, .lengthDelimited)
        let lengthAt = bytes.count
        bytes.append(0)
        let start = bytes.count
        value.encode(to: &self)
        let length = bytes.count - start
        if length < 0x80 {
            bytes[lengthAt] = UInt8(length)
            return
        }
        // Widen in place: the first length byte is rewritten, the rest are inserted after it (one shift of
        // the body per extra byte; two-byte lengths, up to 16 KiB, are the common case).
        var rest = UInt64(length)
        bytes[lengthAt] = UInt8(truncatingIfNeeded: rest) | 0x80
        rest >>= 7
        var position = lengthAt + 1
        while rest >= 0x80 {
            bytes.insert(UInt8(truncatingIfNeeded: rest) | 0x80, at: position)
            rest >>= 7
            position += 1
        }
        bytes.insert(UInt8(rest), at: position)
    }

    /// A repeated sub-message field: one entry per element.
    public mutating func messages(_ number: Int, _ values: [some ProtoMessage]) {
        for value in values { message(number, value) }
    }
}
