/// A phone number parsed once, as libphonenumber parses it, into E.164: the country code and the national
/// significant number. Each destination then writes it its own way (X with `+`, TikTok without).
///
/// The digits are kept inline (at most 3 of country code and 17 national): a parse allocates nothing for its result.
struct PhoneNumber: Sendable {
    /// The country code and the national significant number, as ASCII digits.
    private var digits = InlineArray<20, UInt8>(repeating: 0)
    private var count = 0

    /// Appends the number to `buffer`, with `+` in front (X's form) or without it (TikTok's).
    func append(plus: Bool, to buffer: inout [UInt8]) {
        if plus { buffer.append(UInt8(ascii: "+")) }
        for index in 0..<count { buffer.append(digits[index]) }
    }

    /// A number of `callingCode` digits followed by `national` digits (digit values 0-9), which together are
    /// at most 20.
    init(callingCode: [UInt8], national: [UInt8]) {
        for digit in callingCode {
            digits[count] = digit + UInt8(ascii: "0")
            count += 1
        }
        for digit in national {
            digits[count] = digit + UInt8(ascii: "0")
            count += 1
        }
    }

    /// Parses `bytes`, completing a number without country code with `defaultPlan`'s region. The number is
    /// nil when the result is not a possible E.164 number of its country, or the text is not a phone number
    /// as `PhoneText` reads one. `planIndependent` says that `defaultPlan` played no part (the number
    /// carried its own country code, or was no number at all), so the result holds for any default region.
    static func parse(_ bytes: [UInt8], plan defaultPlan: PhoneNumberingPlan?) -> (number: PhoneNumber?, planIndependent: Bool) {
        guard let text = PhoneText(bytes) else { return (nil, true) }
        let extracted = CountryCodeExtraction.extract(text.digits, plus: text.hasPlus, defaultPlan: defaultPlan)
        return (number(text, extracted, defaultPlan: defaultPlan), text.hasPlus && extracted != nil)
    }

    /// The rest of `parse` once the country code was looked for.
    private static func number(
        _ text: PhoneText, _ firstExtraction: (callingCode: Int, national: [UInt8])?, defaultPlan: PhoneNumberingPlan?
    ) -> PhoneNumber? {
        var extracted = firstExtraction
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
        guard (2...17).contains(national.count), let country = PhoneNumberingPlans.plan(callingCode: plan.callingCode),
            country.check(length: national.count) == .possible
        else { return nil }
        return PhoneNumber(callingCode: plan.callingCodeDigits, national: national)
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
            return (plan.callingCode, potential)
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
