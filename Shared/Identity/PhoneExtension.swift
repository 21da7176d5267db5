/// Where a phone number's extension starts, as libphonenumber's `_EXTN_PATTERNS_FOR_PARSING` finds it
/// (searched case-insensitively, anchored at the end), for ASCII text.
///
/// The alternatives, in libphonenumber's order: `;ext=` and up to 20 digits; an explicit label (`ext`,
/// `extn`, `extension`, `xt`, `anexo`) and up to 20; an ambiguous one (`x`, `#`, `~`, `int`) and up to 9;
/// American style `- 503#` (up to 6, `#` required); `,,` or `;` and up to 15; commas and up to 9.
enum PhoneExtension {
    /// The leftmost position (an index of `text`) an extension can start at and run to the end, if any.
    static func start(in text: ArraySlice<UInt8>) -> Int? {
        // Every alternative needs a label letter, `;`, `,`, `#` or `~`: most numbers have none of them.
        guard text.contains(where: { PhoneText.isLetter($0) || $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "~") })
        else { return nil }
        let lowered = lowercased(Array(text))
        return (0...lowered.count).first { matches(lowered, from: $0) }.map { text.startIndex + $0 }
    }

    /// ASCII letters lower-cased, as the patterns are matched.
    static func lowercased(_ text: [UInt8]) -> [UInt8] {
        text.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
    }

    /// Whether `text` (lower-cased) from `start` to its end is an extension.
    static func matches(_ text: [UInt8], from start: Int) -> Bool {
        var scanner = Scanner(text: text, index: start)
        if scanner.take(";ext="), scanner.digitsToEnd(max: 20, hashAllowed: false) { return true }
        for label in [explicitLabel, ambiguousLabel] {
            scanner = Scanner(text: text, index: start)
            scanner.skip(" \t,")
            guard let limit = label(&scanner) else { continue }
            scanner.skip(optionalOne: ":.")
            scanner.skip(" \t,-")
            if scanner.digitsToEnd(max: limit, hashAllowed: true) { return true }
        }
        scanner = Scanner(text: text, index: start)
        if scanner.skip(" -") > 0, scanner.digitsToEnd(max: 6, hashRequired: true) { return true }
        scanner = Scanner(text: text, index: start)
        scanner.skip(" \t")
        if scanner.take(",,") || scanner.take(";") {
            scanner.skip(optionalOne: ":.")
            scanner.skip(" \t,-")
            if scanner.digitsToEnd(max: 15, hashAllowed: true) { return true }
        }
        scanner = Scanner(text: text, index: start)
        scanner.skip(" \t")
        if scanner.skip(",") > 0 {
            scanner.skip(optionalOne: ":.")
            scanner.skip(" \t,-")
            if scanner.digitsToEnd(max: 9, hashAllowed: true) { return true }
        }
        return false
    }

    /// `e?xt(?:ensio)?n?` or `anexo`: an explicit label, good for 20 digits.
    private static func explicitLabel(_ scanner: inout Scanner) -> Int? {
        if scanner.take("anexo") { return 20 }
        _ = scanner.take("e")
        guard scanner.take("xt") else { return nil }
        _ = scanner.take("ensio")
        _ = scanner.take("n")
        return 20
    }

    /// `x`, `#`, `~` or `int`: an ambiguous label, good for 9 digits.
    private static func ambiguousLabel(_ scanner: inout Scanner) -> Int? {
        scanner.take("int") || scanner.take("x") || scanner.take("#") || scanner.take("~") ? 9 : nil
    }

    /// A cursor over the text; every pattern above is greedy without backtracking, since what follows
    /// each part can never be taken by it.
    private struct Scanner {
        let text: [UInt8]
        var index: Int

        mutating func take(_ literal: StaticString) -> Bool {
            let matched = literal.withUTF8Buffer { bytes in text[index...].starts(with: bytes) }
            if matched { index += literal.utf8CodeUnitCount }
            return matched
        }

        @discardableResult
        mutating func skip(_ set: StaticString) -> Int {
            let start = index
            set.withUTF8Buffer { bytes in
                while index < text.count, bytes.contains(text[index]) { index += 1 }
            }
            return index - start
        }

        mutating func skip(optionalOne set: StaticString) {
            let found = set.withUTF8Buffer { bytes in index < text.count && bytes.contains(text[index]) }
            if found { index += 1 }
        }

        /// 1 to `max` digits, then an optional (or required) `#`, then the end.
        func digitsToEnd(max: Int, hashAllowed: Bool = false, hashRequired: Bool = false) -> Bool {
            var end = index
            while end < text.count, ASCIIBytes.isDigit(text[end]) { end += 1 }
            guard (1...max).contains(end - index) else { return false }
            if end == text.count { return !hashRequired }
            return (hashAllowed || hashRequired) && end == text.count - 1 && text[end] == UInt8(ascii: "#")
        }
    }
}
