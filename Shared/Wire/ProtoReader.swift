/// Reads protobuf (proto3) fields from a byte buffer, skipping unknown ones.
///
/// Values can be read as owned values (`string`, `bytes`, `message`) or in place (`stringRange`, `nested`):
/// a stage that reads millions of records takes ranges of `buffer` and copies nothing it does not keep.
public struct ProtoReader: Sendable {
    /// A field's number and how its value is encoded.
    public struct Field: Sendable {
        public let number: Int
        let wireType: UInt8
    }

    /// The message being read, as error messages name it (`cohortsync.v1.MemberRecord.change`): the field
    /// names are static text, kept as given and joined only when an error is written, so nesting costs nothing.
    private struct Context: Sendable, CustomStringConvertible {
        let root: String
        var names: (StaticString, StaticString, StaticString) = ("", "", "")
        var depth = 0

        init(_ root: String) {
            self.root = root
        }

        /// The context of a field named `name` inside this one. cohortsync.proto nests three levels at most;
        /// deeper names are shown as `…`.
        func appending(_ name: StaticString) -> Context {
            var inner = self
            switch depth {
            case 0: inner.names.0 = name
            case 1: inner.names.1 = name
            case 2: inner.names.2 = name
            default: break
            }
            inner.depth = depth + 1
            return inner
        }

        var description: String {
            let shown = [names.0, names.1, names.2].prefix(depth).map { "\($0)" }
            return ([root] + shown + (depth > 3 ? ["…"] : [])).joined(separator: ".")
        }
    }

    /// The bytes being read; ranges from `stringRange` and `bytesRange` index into it.
    public let buffer: [UInt8]
    private var position: Int
    private let end: Int
    private let context: Context

    public init(_ bytes: [UInt8], context: String) {
        buffer = bytes
        position = 0
        end = bytes.count
        self.context = Context(context)
    }

    private init(buffer: [UInt8], position: Int, end: Int, context: Context) {
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

    private mutating func expect(_ field: Field, _ wireType: UInt8, _ name: StaticString) throws(WireError) {
        guard field.wireType == wireType else {
            throw WireError(code: .wrongWireType, message: "\(context).\(name) (field \(field.number)) has wire type \(field.wireType), expected \(wireType)")
        }
    }

    /// A length-delimited value's place; `name` is nil for a field this version does not know.
    private mutating func lengthDelimited(_ field: Field, _ name: StaticString?) throws(WireError) -> Range<Int> {
        if let name { try expect(field, 2, name) }
        let length = try varint()
        guard length <= UInt64(end - position) else {
            let shown = name.map { "\($0)" } ?? "field \(field.number)"
            throw WireError(code: .truncated, message: "\(context).\(shown): \(length) bytes declared, \(end - position) left")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// A `string` field's value.
    public mutating func string(_ field: Field, _ name: StaticString) throws(WireError) -> String {
        text(try stringRange(field, name))
    }

    /// Where a `string` field's value lies in `buffer`, checked to be UTF-8.
    public mutating func stringRange(_ field: Field, _ name: StaticString) throws(WireError) -> Range<Int> {
        let range = try lengthDelimited(field, name)
        var highBits: UInt8 = 0
        for index in range { highBits |= buffer[index] }
        // ASCII, the common case, is always valid; other text is checked as decoding would repair it.
        guard highBits < 0x80 || String(decoding: buffer[range], as: UTF8.self).utf8.elementsEqual(buffer[range]) else {
            throw WireError(code: .invalidUTF8, message: "\(context).\(name) is not UTF-8")
        }
        return range
    }

    /// The text at `range` of `buffer`, a range `stringRange` returned.
    public func text(_ range: Range<Int>) -> String {
        String(decoding: buffer[range], as: UTF8.self)
    }

    /// A `bytes` field's value.
    public mutating func bytes(_ field: Field, _ name: StaticString) throws(WireError) -> [UInt8] {
        Array(buffer[try bytesRange(field, name)])
    }

    /// Where a `bytes` field's value lies in `buffer`.
    public mutating func bytesRange(_ field: Field, _ name: StaticString) throws(WireError) -> Range<Int> {
        try lengthDelimited(field, name)
    }

    /// An `int64` field's value.
    public mutating func int64(_ field: Field, _ name: StaticString) throws(WireError) -> Int64 {
        try expect(field, 0, name)
        return Int64(bitPattern: try varint())
    }

    /// An `int32` field's value (truncated from the 64-bit varint, as protobuf specifies).
    public mutating func int32(_ field: Field, _ name: StaticString) throws(WireError) -> Int32 {
        Int32(truncatingIfNeeded: try int64(field, name))
    }

    /// A `bool` field's value.
    public mutating func bool(_ field: Field, _ name: StaticString) throws(WireError) -> Bool {
        try int64(field, name) != 0
    }

    /// An enum field's value; numbers this version does not know read as the enum's unspecified case.
    public mutating func enumeration<E: ProtoEnum>(_ field: Field, _ name: StaticString) throws(WireError) -> E {
        try knownEnumeration(field, name).value
    }

    /// An enum field's value and, when this version does not know its number, that number (the value then
    /// unspecified): for readers that must refuse what they would otherwise take as unspecified.
    public mutating func knownEnumeration<E: ProtoEnum>(_ field: Field, _ name: StaticString) throws(WireError) -> (value: E, unknown: Int32?) {
        let number = try int32(field, name)
        guard let value = E(rawValue: number) else { return (E.unspecified, number) }
        return (value, nil)
    }

    /// A sub-message field's value.
    public mutating func message<M: ProtoMessage>(_ field: Field, _ name: StaticString) throws(WireError) -> M {
        var nested = try nested(field, name)
        return try M(from: &nested)
    }

    /// A reader of a sub-message field's fields, in place over the same buffer.
    public mutating func nested(_ field: Field, _ name: StaticString) throws(WireError) -> ProtoReader {
        let range = try lengthDelimited(field, name)
        return ProtoReader(buffer: buffer, position: range.lowerBound, end: range.upperBound, context: context.appending(name))
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
            _ = try lengthDelimited(field, nil)
        default:
            throw WireError(code: .wrongWireType, message: "\(context): field \(field.number) uses wire type \(field.wireType), which cohortsync.v1 never writes")
        }
    }
}
