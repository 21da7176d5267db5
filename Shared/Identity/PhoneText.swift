/// The digits of a phone number as written, whether it starts with `+`, its extension cut off: the text
/// handling of libphonenumber's `parse` (`_extract_possible_number`, `_is_viable_phone_number`,
/// `_maybe_strip_extension`) for what CRMs hold.
///
/// Unicode digits, full-width signs and the dashes and spaces libphonenumber accepts are folded to ASCII
/// first. One deliberate difference: a letter anywhere outside the extension refuses the number, where
/// libphonenumber reads vanity numbers (`1-800-FLOWERS`) as digits that no ad platform would match.
struct PhoneText {
    /// Digit values 0-9.
    let digits: [UInt8]
    let hasPlus: Bool

    /// libphonenumber refuses longer input outright.
    static let maxCharacters = 250

    init?(_ bytes: [UInt8]) {
        guard let folded = Self.folded(bytes), folded.count <= Self.maxCharacters else { return nil }
        // Start at the first `+` or digit; punctuation before it (quotes, `#`, `:`) is not the number, and a
        // letter before it (`tel:`) refuses the text like any letter outside the extension.
        guard let start = folded.firstIndex(where: { ASCIIBytes.isDigit($0) || $0 == UInt8(ascii: "+") }),
            !folded[..<start].contains(where: Self.isLetter)
        else { return nil }
        var end = folded.count
        // Trailing punctuation goes (`…0000!`); a trailing `#` stays for the extension patterns.
        while end > start, folded[end - 1] == UInt8(ascii: "_") || !(ASCIIBytes.isDigit(folded[end - 1]) || Self.isLetter(folded[end - 1]) || folded[end - 1] == UInt8(ascii: "#")) {
            end -= 1
        }
        var text = folded[start..<end]
        if let second = Self.secondNumberStart(text) { text = text[..<second] }
        guard Self.isViable(text) else { return nil }
        var main = text
        if let extensionStart = PhoneExtension.start(in: text), Self.isViable(text[..<extensionStart]) {
            main = text[..<extensionStart]
        }
        var digits: [UInt8] = []
        digits.reserveCapacity(main.count)
        var pluses = 0
        for byte in main {
            if ASCIIBytes.isDigit(byte) {
                digits.append(byte - UInt8(ascii: "0"))
            } else if byte == UInt8(ascii: "+"), digits.isEmpty {
                pluses += 1
            } else if Self.isLetter(byte) {
                return nil
            }
        }
        guard !digits.isEmpty else { return nil }
        self.digits = digits
        hasPlus = pluses > 0
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    /// libphonenumber's punctuation within a number (`_VALID_PUNCTUATION`, ASCII after folding) and `*`.
    static func isPunctuation(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, UInt8(ascii: "-"), UInt8(ascii: "x"), UInt8(ascii: "X"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "."),
            UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "/"), UInt8(ascii: "~"), UInt8(ascii: "*"):
            true
        default: false
        }
    }

    /// `_VALID_PHONE_NUMBER_PATTERN`: two digits alone, or `+`s, three digits with only punctuation between
    /// them, then punctuation, letters and digits, and optionally an extension at the end.
    static func isViable(_ text: ArraySlice<UInt8>) -> Bool {
        if text.count == 2 { return text.allSatisfy(ASCIIBytes.isDigit) }
        var index = text.startIndex + text.prefix { $0 == UInt8(ascii: "+") }.count
        var digits = 0
        while digits < 3, index < text.endIndex {
            let byte = text[index]
            if ASCIIBytes.isDigit(byte) {
                digits += 1
            } else if !isPunctuation(byte) {
                return false
            }
            index += 1
        }
        guard digits == 3 else { return false }
        // The rest: any of punctuation, letters and digits, possibly followed by an extension.
        let plain = text[index...].firstIndex { !(isPunctuation($0) || isLetter($0) || ASCIIBytes.isDigit($0)) } ?? text.endIndex
        if plain == text.endIndex { return true }
        let rest = PhoneExtension.lowercased(Array(text[index...]))
        return (0...(plain - index)).contains { PhoneExtension.matches(rest, from: $0) }
    }

    /// `_SECOND_NUMBER_START_PATTERN`: `/ x` or `\ x` starts a second number, which is cut off.
    static func secondNumberStart(_ text: ArraySlice<UInt8>) -> Int? {
        for index in text.indices where text[index] == UInt8(ascii: "/") || text[index] == UInt8(ascii: "\\") {
            var next = index + 1
            while next < text.endIndex, text[next] == 0x20 { next += 1 }
            if next < text.endIndex, text[next] == UInt8(ascii: "x") { return index }
        }
        return nil
    }

    /// The input as ASCII: Unicode decimal digits become ASCII digits, and the signs libphonenumber treats
    /// alike become one ASCII stand-in each. Nil for invalid UTF-8.
    static func folded(_ bytes: [UInt8]) -> [UInt8]? {
        if bytes.allSatisfy({ $0 < 0x80 }) { return bytes }
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return text.unicodeScalars.map { scalar -> UInt8 in
            if scalar.isASCII { return UInt8(scalar.value) }
            if scalar.properties.numericType == .decimal, let value = scalar.properties.numericValue, (0...9).contains(value) {
                return UInt8(ascii: "0") + UInt8(value)
            }
            switch scalar.value {
            case 0xFF0B: return UInt8(ascii: "+")
            case 0x00A0: return 0x20
            case 0xFF0E: return UInt8(ascii: ".")
            case 0xFF5E: return UInt8(ascii: "~")
            case 0xFF03: return UInt8(ascii: "#")
            case 0xFF45: return UInt8(ascii: "e")
            case 0xFF58: return UInt8(ascii: "x")
            case 0xFF54: return UInt8(ascii: "t")
            case 0xFF4E: return UInt8(ascii: "n")
            case 0xFF49: return UInt8(ascii: "i")
            // Punctuation of a number that means nothing more: dashes, soft hyphen, zero-width and
            // ideographic spaces, full-width brackets and slash, swung dashes.
            case 0x2010...0x2015, 0x2212, 0x30FC, 0xFF0D, 0xFF0F, 0x00AD, 0x200B, 0x2060, 0x3000, 0xFF08, 0xFF09, 0xFF3B, 0xFF3D,
                0x2053, 0x223C:
                return UInt8(ascii: "(")
            default:
                return scalar.properties.isAlphabetic ? UInt8(ascii: "z") : UInt8(ascii: "!")
            }
        }
    }
}
