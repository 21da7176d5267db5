/// Reads protobuf (proto3) fields from a byte buffer, skipping unknown ones.
public struct ProtoReader: Sendable {
    /// A field's number and how its value is encoded.
    public struct Field: Sendable {
        public let number: Int
        let wireType: UInt8
    }

    private let buffer: [UInt8]
    private var position: Int
    private let end: Int
    /// The message being read, for error messages.
    private let context: String

    public init(_ bytes: [UInt8], context: String) {
        buffer = bytes
        position = 0
        end = bytes.count
        self.context = context
    }

    private init(buffer: [UInt8], position: Int, end: Int, context: String) {
        self.buffer = buffer
        self.position = position
        self.end = end
        self.context = context
    }

    /// The next field's tag, or nil at the end of the message.
    public mutating func nextField() throws(WireError) -> Field? {
        guard position < end else { return nil }
        let key = try varint()
        let number = Int(truncatingIfNeeded: key >> 3)
        guard number > 0, number <= 536_870_911 else {
            throw WireError(code: .invalidTag, message: "\(context): field number \(number)")
        }
        return Field(number: number, wireType: UInt8(key & 7))
    }

    mutating func varint() throws(WireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw WireError(code: .truncated, message: "\(context): varint cut short") }
            let byte = buffer[position]
            position += 1
            guard shift < 64 else { throw WireError(code: .malformedVarint, message: "\(context): varint over 10 bytes") }
            result |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    private mutating func expect(_ field: Field, _ wireType: UInt8, _ name: String) throws(WireError) {
        guard field.wireType == wireType else {
            throw WireError(code: .wrongWireType, message: "\(context).\(name) (field \(field.number)) has wire type \(field.wireType), expected \(wireType)")
        }
    }

    private mutating func lengthDelimited(_ field: Field, _ name: String) throws(WireError) -> Range<Int> {
        try expect(field, 2, name)
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw WireError(code: .truncated, message: "\(context).\(name): \(length) bytes declared, \(end - position) left")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// A `string` field's value.
    public mutating func string(_ field: Field, _ name: String) throws(WireError) -> String {
        let bytes = buffer[try lengthDelimited(field, name)]
        // Decoding repairs invalid UTF-8, so non-ASCII text is valid exactly when it re-encodes to the same
        // bytes; ASCII, the common case, always is. (Faster than `String(validating:)` over a slice, which is
        // not specialized.)
        let value = String(decoding: bytes, as: UTF8.self)
        guard bytes.allSatisfy({ $0 < 0x80 }) || value.utf8.elementsEqual(bytes) else {
            throw WireError(code: .invalidUTF8, message: "\(context).\(name) is not UTF-8")
        }
        return value
    }

    /// A `bytes` field's value.
    public mutating func bytes(_ field: Field, _ name: String) throws(WireError) -> [UInt8] {
        Array(buffer[try lengthDelimited(field, name)])
    }

    /// An `int64` field's value.
    public mutating func int64(_ field: Field, _ name: String) throws(WireError) -> Int64 {
        try expect(field, 0, name)
        return Int64(bitPattern: try varint())
    }

    /// An `int32` field's value (truncated from the 64-bit varint, as protobuf specifies).
    public mutating func int32(_ field: Field, _ name: String) throws(WireError) -> Int32 {
        Int32(truncatingIfNeeded: try int64(field, name))
    }

    /// A `bool` field's value.
    public mutating func bool(_ field: Field, _ name: String) throws(WireError) -> Bool {
        try int64(field, name) != 0
    }

    /// An enum field's value; numbers this version does not know read as the enum's unspecified case.
    public mutating func enumeration<E: ProtoEnum>(_ field: Field, _ name: String) throws(WireError) -> E {
        E(rawValue: try int32(field, name)) ?? E.unspecified
    }

    /// A sub-message field's value.
    public mutating func message<M: ProtoMessage>(_ field: Field, _ name: String) throws(WireError) -> M {
        let range = try lengthDelimited(field, name)
        var nested = ProtoReader(buffer: buffer, position: range.lowerBound, end: range.upperBound, context: "\(context).\(name)")
        return try M(from: &nested)
    }

    /// Skips a field this version does not know. Groups (wire types 3 and 4) are refused.
    public mutating func skip(_ field: Field) throws(WireError) {
        switch field.wireType {
        case 0:
            _ = try varint()
        case 1, 5:
            let size = field.wireType == 1 ? 8 : 4
            guard end - position >= size else { throw WireError(code: .truncated, message: "\(context): fixed field \(field.number) cut short") }
            position += size
        case 2:
            _ = try lengthDelimited(field, "field \(field.number)")
        default:
            throw WireError(code: .wrongWireType, message: "\(context): field \(field.number) uses wire type \(field.wireType), which cohortsync.v1 never writes")
        }
    }
}
