/// Byte-level helpers for the normalization fast path: the common input is ASCII, and working on UTF-8
/// bytes keeps normalize-and-hash within the few hundred nanoseconds per identifier the stage needs.
enum ASCIIBytes {
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0d).contains(byte)
    }

    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

    static func isHex(_ byte: UInt8) -> Bool {
        // Wrapping differences: one unsigned compare per range, letters of both cases folded to lowercase.
        byte &- 0x30 < 10 || (byte | 0x20) &- 0x61 < 6
    }

    static func lower(_ byte: UInt8) -> UInt8 {
        (0x41...0x5a).contains(byte) ? byte | 0x20 : byte
    }

    /// `value` without leading and trailing whitespace (Unicode whitespace included), as UTF-8 bytes.
    static func trimmed(_ value: String) -> [UInt8] {
        var bytes = Array(value.utf8)
        if bytes.contains(where: { $0 >= 0x80 }) {
            // Non-ASCII: let the standard library find Unicode whitespace (no-break space, ideographic space...).
            let scalars = value.unicodeScalars
            guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
                let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
            else { return [] }
            return Array(String(scalars[first...last]).utf8)
        }
        var end = bytes.count
        while end > 0, isSpace(bytes[end - 1]) { end -= 1 }
        var start = 0
        while start < end, isSpace(bytes[start]) { start += 1 }
        if start > 0 || end < bytes.count { bytes = Array(bytes[start..<end]) }
        return bytes
    }

    /// Lowercases in place: ASCII byte by byte, non-ASCII text by the standard library (Unicode rules).
    static func lowercase(_ bytes: inout [UInt8]) {
        if bytes.contains(where: { $0 >= 0x80 }) {
            bytes = Array(String(decoding: bytes, as: UTF8.self).lowercased().utf8)
            return
        }
        for index in bytes.indices { bytes[index] = lower(bytes[index]) }
    }
}
