/// Reads JSON text (RFC 8259) strictly: valid UTF-8 only, nothing after the value, nesting bounded.
///
/// Hostile input is the expected case: a record of a million `[` must be refused, not overflow the stack,
/// and an error says where the text went wrong without repeating any of it. The text is read once into a
/// `JSONDocument`, a flat index of its values; `parse` turns that into a tree for readers that want one.
public struct JSONReader {
    /// Nesting deeper than this is refused; real upstream events nest fewer than ten levels.
    public static let defaultMaxDepth = 128

    private let bytes: [UInt8]
    private let maxDepth: Int
    private var index = 0
    private var entries: [JSONDocument.Entry] = []

    /// Parses `bytes` as one JSON value, as a tree.
    /// - Throws: `JSONSyntaxError` with the line and column of the first problem.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONNode {
        let document = try document(bytes, maxDepth: maxDepth)
        return document.node(document.root)
    }

    /// Parses `bytes` as one JSON value into a flat index, making no string until one is asked for.
    /// - Throws: `JSONSyntaxError` with the line and column of the first problem.
    public static func document(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONDocument {
        var reader = JSONReader(bytes: bytes, maxDepth: maxDepth)
        reader.entries.reserveCapacity(32)
        // RFC 8259 §8.1: a parser may ignore a byte order mark, and some exporters write one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { reader.index = 3 }
        reader.skipWhitespace()
        try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.index == bytes.count else { throw reader.error("the end of the text after the value") }
        return JSONDocument(bytes: bytes, entries: reader.entries)
    }

    private init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    private mutating func append(_ kind: JSONDocument.Kind, flag: Bool = false, from start: Int) {
        entries.append(JSONDocument.Entry(kind: kind, flag: flag, start: Int32(start), end: Int32(index), after: Int32(entries.count + 1)))
    }

    private mutating func value(depth: Int) throws(JSONSyntaxError) {
        guard index < bytes.count else { throw error("a value") }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "{"): try object(depth: depth + 1)
        case UInt8(ascii: "["): try array(depth: depth + 1)
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "t"): try literal("true"); append(.bool, flag: true, from: start)
        case UInt8(ascii: "f"): try literal("false"); append(.bool, from: start)
        case UInt8(ascii: "n"): try literal("null"); append(.null, from: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw error("a value (object, array, string, number, true, false or null)")
        }
    }

    /// Opens a container's entry; `close` completes it once its values are read.
    private mutating func open(_ kind: JSONDocument.Kind) -> Int {
        entries.append(JSONDocument.Entry(kind: kind, flag: false, start: Int32(index), end: Int32(index), after: 0))
        return entries.count - 1
    }

    private mutating func close(_ container: Int) {
        entries[container].end = Int32(index)
        entries[container].after = Int32(entries.count)
    }

    private mutating func object(depth: Int) throws(JSONSyntaxError) {
        guard depth <= maxDepth else { throw error("at most \(maxDepth) levels of nesting") }
        let container = open(.object)
        index += 1
        skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            index += 1
            close(container)
            return
        }
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else { throw error("a member name in double quotes") }
            try string()
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw error("':' after a member name") }
            index += 1
            skipWhitespace()
            try value(depth: depth)
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                index += 1
            } else if peek(UInt8(ascii: "}")) {
                index += 1
                close(container)
                return
            } else {
                throw error("',' or '}' after an object member")
            }
        }
    }

    private mutating func array(depth: Int) throws(JSONSyntaxError) {
        guard depth <= maxDepth else { throw error("at most \(maxDepth) levels of nesting") }
        let container = open(.array)
        index += 1
        skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            index += 1
            close(container)
            return
        }
        while true {
            skipWhitespace()
            try value(depth: depth)
            skipWhitespace()
            if peek(UInt8(ascii: ",")) {
                index += 1
            } else if peek(UInt8(ascii: "]")) {
                index += 1
                close(container)
                return
            } else {
                throw error("',' or ']' after an array element")
            }
        }
    }

    /// Checks a string and records where its text lies; its escapes are checked here and resolved only
    /// when the string is read (`JSONDocument.string`).
    private mutating func string() throws(JSONSyntaxError) {
        index += 1
        let start = index
        var escaped = false
        var highBits: UInt8 = 0
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            // The plain run up to the next quote, backslash or control character, with the position in a local
            // (the common case: a whole string without escapes).
            var position = index
            while position < bytes.count {
                let byte = bytes[position]
                guard byte >= 0x20, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { break }
                highBits |= byte
                position += 1
            }
            index = position
            guard index < bytes.count, bytes[index] != UInt8(ascii: "\"") else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                escaped = true
                index += 1
                guard index < bytes.count else { throw error("an escape sequence") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                    UInt8(ascii: "r"), UInt8(ascii: "t"):
                    break
                case UInt8(ascii: "u"): try checkUnicodeEscape()
                default: throw error("a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
                }
                continue
            }
            throw error("no control characters inside a string (escape them)")
        }
        guard index < bytes.count else { throw error("a closing '\"'") }
        // Escapes are ASCII and produce whole characters, so the raw text is valid exactly when the text is.
        guard highBits < 0x80 || Self.isValidUTF8(bytes[start..<index]) else {
            index = start
            throw error("a string of valid UTF-8")
        }
        append(.string, flag: escaped, from: start)
        index += 1
    }

    /// Whether `text` is well-formed UTF-8 (Unicode's table 3-7: no overlong forms, no surrogates, nothing
    /// past U+10FFFF).
    public static func isValidUTF8(_ text: ArraySlice<UInt8>) -> Bool {
        var index = text.startIndex
        while index < text.endIndex {
            let lead = text[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            var following = 0
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: following = 1
            case 0xE0: following = 2; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: following = 2
            case 0xED: following = 2; high = 0x9F
            case 0xF0: following = 3; low = 0x90
            case 0xF1...0xF3: following = 3
            case 0xF4: following = 3; high = 0x8F
            default: return false
            }
            guard index + following < text.endIndex, (low...high).contains(text[index + 1]) else { return false }
            for offset in stride(from: 2, through: following, by: 1) where !(0x80...0xBF).contains(text[index + offset]) {
                return false
            }
            index += following + 1
        }
        return true
    }

    /// Checks the four hex digits after `\u`, and a second escape for a surrogate pair.
    private mutating func checkUnicodeEscape() throws(JSONSyntaxError) {
        var scalar = try hex4()
        if (0xD800...0xDBFF).contains(scalar) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("a low surrogate \\uDC00-\\uDFFF after a high surrogate")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw error("a low surrogate \\uDC00-\\uDFFF after a high surrogate") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
            throw error("no lone low surrogate")
        }
        guard Unicode.Scalar(scalar) != nil else { throw error("a Unicode scalar") }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("four hex digits after \\u") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("four hex digits after \\u")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func number() throws(JSONSyntaxError) {
        let start = index
        if peek(UInt8(ascii: "-")) { index += 1 }
        if peek(UInt8(ascii: "0")) {
            index += 1
        } else {
            guard digits() > 0 else { throw error("a digit") }
        }
        if peek(UInt8(ascii: ".")) {
            index += 1
            guard digits() > 0 else { throw error("a digit after '.'") }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            index += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { index += 1 }
            guard digits() > 0 else { throw error("a digit in the exponent") }
        }
        append(.number, from: start)
    }

    private mutating func digits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        let matches = index + count <= bytes.count && word.withUTF8Buffer { bytes[index..<(index + count)].elementsEqual($0) }
        guard matches else {
            throw error("a value (object, array, string, number, true, false or null)")
        }
        index += count
    }

    private func peek(_ byte: UInt8) -> Bool {
        index < bytes.count && bytes[index] == byte
    }

    private mutating func skipWhitespace() {
        var position = index
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default:
                index = position
                return
            }
        }
        index = position
    }

    /// An error at the current position.
    private func error(_ expected: String) -> JSONSyntaxError {
        let position = min(index, bytes.count)
        var line = 1
        var lineStart = 0
        for offset in 0..<position where bytes[offset] == 0x0A {
            line += 1
            lineStart = offset + 1
        }
        return JSONSyntaxError(line: line, column: position - lineStart + 1, expected: expected)
    }
}
