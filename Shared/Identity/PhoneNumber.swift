/// A phone number parsed once into E.164 digits (country code and national number, no `+`); each
/// destination then formats it its own way.
public struct PhoneNumber: Sendable, Hashable {
    /// Country code followed by the national number without trunk zeros, 8 to 15 ASCII digits.
    let digitBytes: [UInt8]

    /// Country code followed by the national number without trunk zeros, 8 to 15 digits.
    public var digits: String { String(decoding: digitBytes, as: UTF8.self) }

    /// Parses spaces, dashes, dots and parentheses, a leading `+` or `00`, an `(0)` trunk marker after the
    /// country code, and national numbers (leading trunk zeros dropped) with `defaultCallingCode`.
    public static func parse(_ bytes: [UInt8], defaultCallingCode: String?) -> PhoneNumber? {
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count)
        var index = 0
        var international = false
        if bytes.first == UInt8(ascii: "+") {
            international = true
            index = 1
        } else if bytes.starts(with: [48, 48]) {
            international = true
            index = 2
        }
        var sawTrunkMarker = false
        while index < bytes.count {
            let byte = bytes[index]
            if ASCIIBytes.isDigit(byte) {
                digits.append(byte)
                index += 1
            } else if international, !sawTrunkMarker, bytes[index...].starts(with: Array("(0)".utf8)) {
                // "+44 (0)20 ..." writes the national trunk zero in parentheses: it is not dialled internationally.
                sawTrunkMarker = true
                index += 3
            } else if byte == 0x20 || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")") {
                index += 1
            } else {
                return nil
            }
        }
        if international {
            guard let first = digits.first, first != UInt8(ascii: "0") else { return nil }
        } else {
            guard let code = defaultCallingCode else { return nil }
            while digits.first == UInt8(ascii: "0") { digits.removeFirst() }
            guard !digits.isEmpty else { return nil }
            digits = Array(code.utf8) + digits
        }
        guard (8...15).contains(digits.count) else { return nil }
        return PhoneNumber(digitBytes: digits)
    }
}
