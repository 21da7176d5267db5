/// A phone number parsed once into E.164 digits (country code and national significant number, no `+`);
/// each destination then formats it its own way.
public struct PhoneNumber: Sendable, Hashable {
    /// Country code followed by the national significant number, as ASCII digits.
    let digitBytes: [UInt8]

    /// Country code followed by the national significant number.
    public var digits: String { String(decoding: digitBytes, as: UTF8.self) }

    /// Parses `bytes` as libphonenumber does, completing a number without country code with
    /// `defaultRegion` (an ISO region; `PhoneRegions.isKnown`). Nil when the result is not a possible
    /// E.164 number of its country, or the text holds anything but digits, punctuation and an extension.
    public static func parse(_ bytes: [UInt8], defaultRegion: String?) -> PhoneNumber? {
        parse(bytes, plan: defaultRegion.flatMap { PhoneNumberingPlans.byRegion[$0.uppercased()] })
    }

    static func parse(_ bytes: [UInt8], plan defaultPlan: PhoneNumberingPlan?) -> PhoneNumber? {
        guard let text = PhoneText(bytes) else { return nil }
        var extracted: (callingCode: Int, national: [UInt8])?
        extracted = CountryCodeExtraction.extract(text.digits, plus: text.hasPlus, defaultPlan: defaultPlan)
        if extracted == nil, text.hasPlus {
            // libphonenumber reads an unknown code after `+` once more as if the `+` were not there.
            extracted = CountryCodeExtraction.extract(text.digits, plus: false, defaultPlan: defaultPlan)
            guard extracted?.callingCode != 0 else { return nil }
        }
        guard let extracted else { return nil }
        let plan: PhoneNumberingPlan
        var national: [UInt8]
        if extracted.callingCode != 0 {
            guard let codePlan = PhoneNumberingPlans.plan(callingCode: extracted.callingCode) else { return nil }
            plan = codePlan
            national = extracted.national
        } else {
            guard let defaultPlan else { return nil }
            plan = defaultPlan
            national = text.digits
        }
        guard national.count >= 2 else { return nil }
        let stripped = plan.strippingNationalPrefix(national)
        switch plan.check(length: stripped.count) {
        case .tooShort, .possibleLocalOnly, .invalidLength: break
        case .possible, .tooLong: national = stripped
        }
        guard (2...17).contains(national.count), let country = PhoneNumberingPlans.plan(callingCode: plan.region.callingCode),
            country.check(length: national.count) == .possible
        else { return nil }
        return PhoneNumber(digitBytes: (plan.callingCodeDigits + national).map { $0 + UInt8(ascii: "0") })
    }
}

/// The digits of a phone number as written, whether it starts with `+`, its extension cut off.
///
/// Accepts what CRMs hold: spaces, dashes, dots, slashes, parentheses (so `(0)` after a country code),
/// and an extension (`ext. 12`, `x12`, `#12`), which E.164 has no place for. Letters are refused: a
/// vanity number (`1-800-FLOWERS`) is not an identifier an ad platform can match.
struct PhoneText {
    /// Digit values 0-9.
    let digits: [UInt8]
    let hasPlus: Bool

    init?(_ bytes: [UInt8]) {
        let end = Self.extensionStart(bytes) ?? bytes.count
        var digits: [UInt8] = []
        digits.reserveCapacity(end)
        var plus = false
        for index in 0..<end {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                digits.append(byte - UInt8(ascii: "0"))
            } else if byte == UInt8(ascii: "+"), digits.isEmpty, !plus {
                plus = true
            } else if !Self.isPunctuation(byte) {
                return nil
            }
        }
        guard !digits.isEmpty else { return nil }
        self.digits = digits
        hasPlus = plus
    }

    static func isPunctuation(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x09, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "/"): true
        default: false
        }
    }

    /// Where an extension starts: `ext`, `ext.`, `extension`, `x` or `#` (any case), then at most nine
    /// digits to the end, after a number with at least three digits.
    static func extensionStart(_ bytes: [UInt8]) -> Int? {
        guard let start = bytes.firstIndex(where: { $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) else {
            return nil
        }
        var index = start
        let lowered = bytes[start...].map { $0 | 0x20 }
        for marker in ["extension", "ext.", "ext", "x", "#"] {
            let markerBytes = Array(marker.utf8).map { $0 | 0x20 }
            if lowered.starts(with: markerBytes) {
                index = start + markerBytes.count
                break
            }
        }
        guard index > start else { return nil }
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == UInt8(ascii: ":") || bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: ".") {
            index += 1
        }
        let digitsStart = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
        while index < bytes.count, bytes[index] == 0x20 { index += 1 }
        let extensionDigits = bytes[digitsStart..<index].filter { $0 != 0x20 }.count
        guard index == bytes.count, (1...9).contains(extensionDigits),
            bytes[..<start].filter({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }).count >= 3
        else { return nil }
        return start
    }
}

/// libphonenumber's `_maybe_extract_country_code`: where the country code comes from, if anywhere.
enum CountryCodeExtraction {
    /// The calling code and the digits after it; calling code 0 when the number carries none (it is
    /// national, for the default region). Nil when it should carry one but what follows is no known code.
    static func extract(_ digits: [UInt8], plus: Bool, defaultPlan: PhoneNumberingPlan?) -> (callingCode: Int, national: [UInt8])? {
        var number = digits
        var international = plus
        if !plus, let idd = defaultPlan?.internationalPrefix, let match = idd.matchPrefix(number) {
            // An international prefix followed by 0 is not one (no calling code starts with 0).
            if match.end >= number.count || number[match.end] != 0 {
                international = true
                number = Array(number[match.end...])
            }
        }
        if international {
            guard number.count > 2 else { return nil }
            guard let (code, length) = knownCallingCode(at: number) else { return nil }
            return (code, Array(number[length...]))
        }
        guard let plan = defaultPlan, number.starts(with: plan.callingCodeDigits) else { return (0, []) }
        // The default region's code written without `+`: take it as one when the rest looks like a national
        // number and the whole does not, or when the whole is too long to be national.
        let potential = plan.strippingNationalPrefix(Array(number[plan.callingCodeDigits.count...]))
        if (!plan.nationalNumber.matchesWhole(number) && plan.nationalNumber.matchesWhole(potential)) || plan.check(length: number.count) == .tooLong {
            return (plan.region.callingCode, potential)
        }
        return (0, [])
    }

    /// The 1 to 3 leading digits that form a calling code libphonenumber knows, and how many they are.
    private static func knownCallingCode(at number: [UInt8]) -> (Int, Int)? {
        guard let first = number.first, first != 0 else { return nil }
        var code = 0
        for length in 1...min(3, number.count) {
            code = code * 10 + Int(number[length - 1])
            if PhoneNumberingPlans.plan(callingCode: code) != nil { return (code, length) }
        }
        return nil
    }
}
