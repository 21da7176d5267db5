/// Event times as both upstream formats write them: RFC 3339 text, `2026-11-23T19:00:00Z`.
///
/// Read strictly, by hand: a date that does not exist (`2026-02-30`), a time out of range (`24:00`, a leap
/// second `:60`) or anything after the zone is refused, where Foundation's parser would roll the date over
/// or ignore the rest. `T` and `Z` may be lowercase, as RFC 3339 allows.
enum EventTime {
    /// Milliseconds since 1970 of `text` (fractions beyond milliseconds dropped, rounding down), 0 when absent.
    /// - Throws: `IngestRefusal` `invalid-field` naming `field` when the text is not such a time, or is not
    ///   after 1970-01-01T00:00:00Z: no membership happened then, so such a time is a writer's default or bug,
    ///   and downstream 0 means "unknown" and the batcher orders consent withdrawals by these times.
    static func milliseconds(_ text: String?, field: String) throws(IngestRefusal) -> Int64 {
        try afterEpoch(readable(text, field: field), field: field)
    }

    /// As `milliseconds(_:field:)`, for the text at `range` of a record's `FieldText`.
    static func milliseconds(_ range: Range<Int>?, in text: FieldText, field: String) throws(IngestRefusal) -> Int64 {
        try afterEpoch(readable(range, in: text, field: field), field: field)
    }

    /// Milliseconds since 1970 of `text` whatever its year, nil when absent: for records whose time goes no
    /// further (snapshot markers), so a writer's default there refuses nothing.
    /// - Throws: `IngestRefusal` `invalid-field` naming `field` when the text is not an RFC 3339 time.
    static func readable(_ text: String?, field: String) throws(IngestRefusal) -> Int64? {
        guard let text else { return nil }
        return try time(parse(text), field: field)
    }

    /// As `readable(_:field:)`, for the text at `range` of a record's `FieldText`.
    static func readable(_ range: Range<Int>?, in text: FieldText, field: String) throws(IngestRefusal) -> Int64? {
        guard let range else { return nil }
        return try time(parse(text.bytes.span.extracting(range)), field: field)
    }

    private static func time(_ parsed: Int64?, field: String) throws(IngestRefusal) -> Int64 {
        guard let parsed else {
            throw IngestRefusal(
                reason: "invalid-field",
                detail: "\(field): expected an RFC 3339 time such as 2026-11-23T19:00:00Z (a fraction is optional; Z or ±HH:MM)")
        }
        return parsed
    }

    private static func afterEpoch(_ milliseconds: Int64?, field: String) throws(IngestRefusal) -> Int64 {
        guard let milliseconds else { return 0 }
        guard milliseconds > 0 else {
            throw IngestRefusal(
                reason: "invalid-field",
                detail: "\(field): not after 1970-01-01T00:00:00Z; send the time the membership changed, or leave it out to use the record's Kafka timestamp")
        }
        return milliseconds
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` as milliseconds since 1970; nil for anything else.
    static func parse(_ text: String) -> Int64? {
        parse(text.utf8.span)
    }

    /// As `parse(_:)`, over UTF-8 bytes.
    static func parse(_ bytes: Span<UInt8>) -> Int64? {
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

    /// `milliseconds` since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (with `.mmm` when not whole seconds), in the
    /// proleptic Gregorian calendar `parse` reads; years outside 0000–9999 get a sign or a fifth digit.
    static func format(milliseconds: Int64) -> String {
        let (days, dayMilliseconds) = Int(milliseconds).quotientAndRemainder(dividingBy: 86_400_000)
        let (day, inDay) = dayMilliseconds < 0 ? (days - 1, dayMilliseconds + 86_400_000) : (days, dayMilliseconds)
        let (year, month, dayOfMonth) = civil(daysSince1970: day)
        let seconds = inDay / 1000
        /// `value` in decimal with at least `width` digits.
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(width - digits.count, 0)) + digits
        }
        let yearText = year < 0 ? "-" + padded(-year, 4) : padded(year, 4)
        let date = "\(yearText)-\(padded(month, 2))-\(padded(dayOfMonth, 2))"
        let time = "\(padded(seconds / 3600, 2)):\(padded(seconds / 60 % 60, 2)):\(padded(seconds % 60, 2))"
        let fraction = inDay % 1000 == 0 ? "" : "." + padded(inDay % 1000, 3)
        return date + "T" + time + fraction + "Z"
    }

    /// The date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
    private static func civil(daysSince1970 days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
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
