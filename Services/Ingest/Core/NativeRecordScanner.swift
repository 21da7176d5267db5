import JSON
import Wire

/// Reads a native record in one pass over its bytes, without an index of its values: the fast path for the
/// records ingest sees nearly always.
///
/// It accepts only what it can read with certainty: an object of the native format's own fields (and their
/// objects' fields), each at most once, of the expected type and within its bound, strings without escapes,
/// `members` a plain integer, and nothing else in the text. For anything else it answers nil and the
/// record takes the general path (`JSONReader` and `FieldReader`), which names the problem: every refusal
/// made while reading (JSON syntax, a field's type or bound, a key written twice) is the general path's. For
/// every record it accepts, the scanner yields exactly the fields the general path reads, and the checks
/// after reading (`NativeEventParser`) are the same code for both (a differential fuzz test holds them to it).
struct NativeRecordScanner {
    private let bytes: [UInt8]
    private var index = 0

    /// The fields of `bytes`, their text copied into `text`; nil when the record needs the general path
    /// (`text` may then hold some of its text: empty it first).
    static func fields(of bytes: [UInt8], text: inout FieldText) -> NativeFields? {
        var scanner = NativeRecordScanner(bytes: bytes)
        return scanner.record(text: &text)
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func record(text: inout FieldText) -> NativeFields? {
        var fields = NativeFields()
        var seen = Set8()
        let read = members { name, scanner in
            switch name {
            case .type: seen.insert(0) && scanner.string(bound: FieldBounds.word, into: &text, &fields.type)
            case .audience: seen.insert(1) && scanner.audience(into: &fields, text: &text)
            case .action: seen.insert(2) && scanner.string(bound: FieldBounds.word, into: &text, &fields.action)
            case .user: seen.insert(3) && scanner.user(into: &fields, text: &text)
            case .consent: seen.insert(4) && scanner.consent(into: &fields)
            case .timestamp: seen.insert(5) && scanner.string(bound: FieldBounds.word, into: &text, &fields.timestamp)
            case .snapshot: seen.insert(6) && scanner.string(bound: FieldBounds.snapshotID, into: &text, &fields.snapshot)
            case .members: seen.insert(7) && scanner.integer(&fields.members)
            default: false
            }
        }
        guard read else { return nil }
        skipWhitespace()
        return index == bytes.count ? fields : nil
    }

    private mutating func audience(into fields: inout NativeFields, text: inout FieldText) -> Bool {
        var seen = Set8()
        return object { name, scanner in
            switch name {
            case .id: seen.insert(0) && scanner.string(bound: FieldBounds.audienceID, into: &text, &fields.audienceID)
            case .name: seen.insert(1) && scanner.string(bound: FieldBounds.audienceName, into: &text, &fields.audienceName)
            default: false
            }
        } != .failed
    }

    private mutating func user(into fields: inout NativeFields, text: inout FieldText) -> Bool {
        var seen = Set8()
        let read = object { name, scanner in
            let kind: IdentifierType
            switch name {
            case .id: return seen.insert(0) && scanner.string(bound: FieldBounds.userID, into: &text, &fields.userID)
            case .email: kind = .email
            case .phone: kind = .phone
            case .idfa: kind = .idfa
            case .gaid: kind = .gaid
            case .androidID: kind = .androidID
            case .xHandle: kind = .xHandle
            case .xID: kind = .xID
            default: return false
            }
            var value: Range<Int>?
            // Identifier kinds are numbered from 1, after the id's slot 0.
            guard seen.insert(Int(kind.rawValue)), scanner.string(bound: FieldBounds.of(kind), into: &text, &value)
            else { return false }
            if let value { fields.identifiers[kind] = value }
            return true
        }
        // `"user": null` is no user, as the general path reads it; an empty object is one.
        if read == .object { fields.hasUser = true }
        return read != .failed
    }

    private mutating func consent(into fields: inout NativeFields) -> Bool {
        var seen = Set8()
        return object { name, scanner in
            name == .ads && seen.insert(0) && scanner.bool(&fields.consent)
        } != .failed
    }

    // MARK: - Values

    /// What `object` found.
    private enum ObjectRead: Equatable {
        case object, null, failed
    }

    /// Reads an object or `null` at the current position, calling `member` with each key (the position then
    /// at the member's value, which `member` reads); `member` answers false to give up.
    private mutating func object(_ member: (FieldName, inout NativeRecordScanner) -> Bool) -> ObjectRead {
        if literal(.nullLiteral, count: 4) { return .null }
        return members(member) ? .object : .failed
    }

    /// Reads the object at the current position (or after whitespace), as `object` does; `null` is not
    /// accepted here.
    private mutating func members(_ member: (FieldName, inout NativeRecordScanner) -> Bool) -> Bool {
        skipWhitespace()
        guard take(UInt8(ascii: "{")) else { return false }
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return true }
        while true {
            skipWhitespace()
            // A name longer than any of the format's is another field: the general path's.
            guard let key = plainString(), let name = FieldName(packing: bytes.span.extracting(key)) else { return false }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            guard member(name, &self) else { return false }
            skipWhitespace()
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "}"))
        }
    }

    /// Reads a string of at most `bound` bytes, or `null` (leaving `value` nil), copying the string into `text`.
    private mutating func string(bound: Int, into text: inout FieldText, _ value: inout Range<Int>?) -> Bool {
        if literal(.nullLiteral, count: 4) { return true }
        guard let range = plainString(), range.count <= bound else { return false }
        value = text.append(span: bytes.span.extracting(range))
        return true
    }

    /// Reads `true`, `false` or `null`.
    private mutating func bool(_ value: inout Bool?) -> Bool {
        if literal(.nullLiteral, count: 4) { return true }
        if literal(.trueLiteral, count: 4) {
            value = true
        } else if literal(.falseLiteral, count: 5) {
            value = false
        } else {
            return false
        }
        return true
    }

    /// Reads an integer written plainly (`-?` and at most 18 digits, no leading zero), or `null`; any other
    /// number is left to the general path, which reads `1e3` and `100.0` too.
    private mutating func integer(_ value: inout Int64?) -> Bool {
        if literal(.nullLiteral, count: 4) { return true }
        let negative = take(UInt8(ascii: "-"))
        let start = index
        var magnitude: Int64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            // 18 digits always fit an `Int64`; a 19th is left to the general path.
            guard index - start < 18 else { return false }
            magnitude = magnitude * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        let digits = index - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            return false
        }
        value = negative ? -magnitude : magnitude
        return true
    }

    /// Reads a string at the current position and returns where its text lies, when it holds no escape and
    /// no control character and is valid UTF-8; nil otherwise.
    private mutating func plainString() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        var highBits: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = start..<index
                index += 1
                guard highBits < 0x80 || JSONReader.isValidUTF8(bytes[text]) else { return nil }
                return text
            }
            guard byte >= 0x20, byte != UInt8(ascii: "\\") else { return nil }
            highBits |= byte
            index += 1
        }
        return nil
    }

    /// Reads `null`, `true` or `false` when it is `word` (written as its bytes, `FieldName` style).
    private mutating func literal(_ word: FieldName, count: Int) -> Bool {
        // The first byte rules out nearly every value without packing the rest.
        guard index + count <= bytes.count, bytes[index] == UInt8(truncatingIfNeeded: word.low),
            FieldName(packing: bytes.span.extracting(index..<(index + count))) == word
        else { return false }
        index += count
        return true
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }
}

/// Which of up to eight fields of one object have been read: a field written twice is left to the general
/// path, which refuses it by name.
private struct Set8 {
    private var bits: UInt8 = 0

    /// Marks `slot` read; false when it already was.
    mutating func insert(_ slot: Int) -> Bool {
        let bit = UInt8(1) << slot
        guard bits & bit == 0 else { return false }
        bits |= bit
        return true
    }
}
