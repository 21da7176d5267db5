/// Event times as both upstream formats write them: RFC 3339 text, `2026-11-23T19:00:00Z`.
///
/// Read strictly, by hand: a date that does not exist (`2026-02-30`), a time out of range (`24:00`, a leap
/// second `:60`) or anything after the zone is refused, where Foundation's parser would roll the date over
/// or ignore the rest. `T` and `Z` may be lowercase, as RFC 3339 allows.
enum EventTime {
    /// Milliseconds since 1970 of `text` (fractions beyond milliseconds dropped, rounding down), 0 when absent.
    /// - Throws: `IngestRefusal` `invalid-field` naming `field` when the text is not such a time.
    static func milliseconds(_ text: String?, field: String) throws(IngestRefusal) -> Int64 {
        guard let text else { return 0 }
        guard let milliseconds = parse(text) else {
            throw IngestRefusal(
                reason: "invalid-field",
                detail: "\(field): expected an RFC 3339 time such as 2026-11-23T19:00:00Z (a fraction is optional; Z or ±HH:MM)")
        }
        return milliseconds
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` as milliseconds since 1970; nil for anything else.
    static func parse(_ text: String) -> Int64? {
        let bytes = text.utf8.span
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<count {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                index += 1
            }
            return value
        }
        func expect(_ allowed: UInt8...) -> Bool {
            guard index < bytes.count, allowed.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")), let day = digits(2),
            expect(UInt8(ascii: "T"), UInt8(ascii: "t")), let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2),
            expect(UInt8(ascii: ":")), let second = digits(2),
            (1...12).contains(month), day >= 1, day <= daysIn(month, of: year), hour < 24, minute < 60, second < 60
        else { return nil }
        var milliseconds = 0
        if expect(UInt8(ascii: ".")) {
            var places = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if places < 3 { milliseconds = milliseconds * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                places += 1
                index += 1
            }
            guard (1...9).contains(places) else { return nil }
            if places < 3 { for _ in places..<3 { milliseconds *= 10 } }
        }
        var offsetMinutes = 0
        if !expect(UInt8(ascii: "Z"), UInt8(ascii: "z")) {
            guard index < bytes.count else { return nil }
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard expect(UInt8(ascii: "+"), UInt8(ascii: "-")), let hours = digits(2), expect(UInt8(ascii: ":")), let minutes = digits(2), hours < 24,
                minutes < 60
            else { return nil }
            offsetMinutes = sign * (hours * 60 + minutes)
        }
        guard index == bytes.count else { return nil }
        let days = daysSince1970(year: year, month: month, day: day)
        let seconds = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60 + second
        return Int64(seconds) * 1000 + Int64(milliseconds)
    }

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's `days_from_civil`).
    private static func daysSince1970(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
