/// One region's phone numbering rules, as libphonenumber's metadata states them (the generated
/// `PhoneRegion.table`, from scripts/make-phone-metadata.py).
struct PhoneRegion: Sendable {
    /// ISO 3166 region, or `001` for a non-geographic calling code (+800, +882, ...).
    let id: String
    let callingCode: Int
    /// Whether this region's rules stand for its calling code (the US for +1, Russia for +7).
    let isMainForCallingCode: Bool
    /// How numbers dialled abroad from this region start (`00`, `011`, ...), a pattern.
    let internationalPrefix: String?
    /// What precedes a national number and is dropped when parsing it (`0`, `1`, Argentina's `0?(...)15`), a pattern.
    let nationalPrefixForParsing: String?
    /// What replaces that prefix, with `\1`-style references to its groups (Argentina: `9\1`).
    let nationalPrefixTransformRule: String?
    /// Every national significant number of the region matches this.
    let nationalNumberPattern: String
    /// National significant number lengths, ascending.
    let possibleLengths: [Int]
    /// Lengths dialable only within an area (the US 7-digit numbers): not enough for E.164.
    let localOnlyLengths: [Int]
}

/// A `PhoneRegion` with its patterns compiled, as parsing uses it. A class: parsing hands plans around
/// on the hot path, and one reference is cheaper to pass than a dozen.
final class PhoneNumberingPlan: Sendable {
    /// How a national number compares to the possible lengths (libphonenumber's `ValidationResult`).
    enum LengthCheck {
        case possible, possibleLocalOnly, tooShort, tooLong, invalidLength
    }

    /// One piece of a transform rule: digits to write, or a group of the prefix match.
    enum TransformPart: Sendable {
        case digits([UInt8])
        case group(Int)
    }

    let region: PhoneRegion
    let callingCode: Int
    /// The calling code as digit values.
    let callingCodeDigits: [UInt8]
    /// The region's possible and local-only lengths, one bit each, and its shortest and longest: what a
    /// length check reads, kept out of `region` so that no array is touched per check.
    private let possibleLengths: UInt64
    private let localOnlyLengths: UInt64
    private let lengthRange: ClosedRange<Int>?
    let internationalPrefix: DigitPattern?
    let nationalPrefix: DigitPattern?
    let transform: [TransformPart]?
    let nationalNumber: DigitPattern

    init(_ region: PhoneRegion) throws(DigitPatternError) {
        self.region = region
        callingCode = region.callingCode
        callingCodeDigits = String(region.callingCode).utf8.map { $0 - UInt8(ascii: "0") }
        possibleLengths = Self.mask(region.possibleLengths)
        localOnlyLengths = Self.mask(region.localOnlyLengths)
        lengthRange = region.possibleLengths.first.flatMap { shortest in region.possibleLengths.last.map { shortest...$0 } }
        internationalPrefix = try region.internationalPrefix.map { source throws(DigitPatternError) in try DigitPattern(source) }
        nationalPrefix = try region.nationalPrefixForParsing.map { source throws(DigitPatternError) in try DigitPattern(source) }
        transform = region.nationalPrefixTransformRule.map(Self.transformParts)
        nationalNumber = try DigitPattern(region.nationalNumberPattern)
    }

    /// Where `length` stands among the region's possible lengths (libphonenumber's `_test_number_length`).
    func check(length: Int) -> LengthCheck {
        if Self.contains(localOnlyLengths, length) { return .possibleLocalOnly }
        guard let lengthRange else { return .invalidLength }
        if length == lengthRange.lowerBound { return .possible }
        if length < lengthRange.lowerBound { return .tooShort }
        if length > lengthRange.upperBound { return .tooLong }
        return Self.contains(possibleLengths, length) ? .possible : .invalidLength
    }

    /// Lengths as bits (national numbers are at most 17 digits; the metadata never says more than 63).
    private static func mask(_ lengths: [Int]) -> UInt64 {
        lengths.reduce(0) { mask, length in (0..<64).contains(length) ? mask | 1 << UInt64(length) : mask }
    }

    private static func contains(_ mask: UInt64, _ length: Int) -> Bool {
        (0..<64).contains(length) && mask & (1 << UInt64(length)) != 0
    }

    /// `number` with the national prefix dropped (or transformed), when that leaves a number the region
    /// could have (libphonenumber's `_maybe_strip_national_prefix_carrier_code`, carrier codes left out).
    func strippingNationalPrefix(_ number: [UInt8]) -> [UInt8] {
        guard !number.isEmpty, let nationalPrefix, let match = nationalPrefix.matchPrefix(number) else { return number }
        let originalIsViable = nationalNumber.matchesWhole(number)
        var result: [UInt8] = []
        // The transform applies only when the prefix's last group took part (Argentina's mobile `15`).
        if let transform, match.groups.last.flatMap({ $0 }) != nil {
            for part in transform {
                switch part {
                case .digits(let digits):
                    result += digits
                case .group(let index):
                    if index <= match.groups.count, let range = match.groups[index - 1] { result += number[range] }
                }
            }
            result += number[match.end...]
        } else {
            result = Array(number[match.end...])
        }
        if originalIsViable, !nationalNumber.matchesWhole(result) { return number }
        return result
    }

    private static func transformParts(_ rule: String) -> [TransformPart] {
        var parts: [TransformPart] = []
        var bytes = Array(rule.utf8)[...]
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            if byte == UInt8(ascii: "\\"), let group = bytes.first, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(group) {
                parts.append(.group(Int(group - UInt8(ascii: "0"))))
                bytes = bytes.dropFirst()
            } else if case .digits(let digits)? = parts.last {
                parts[parts.count - 1] = .digits(digits + [byte - UInt8(ascii: "0")])
            } else {
                parts.append(.digits([byte - UInt8(ascii: "0")]))
            }
        }
        return parts
    }
}
