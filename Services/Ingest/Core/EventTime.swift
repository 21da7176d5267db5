import Foundation

/// Event times as both upstream formats write them: ISO 8601 text.
enum EventTime {
    /// Milliseconds since 1970 of `text`, 0 when absent.
    /// - Throws: `IngestRefusal` `invalid-field` naming `field` when the text is not an ISO 8601 time.
    static func milliseconds(_ text: String?, field: String) throws(IngestRefusal) -> Int64 {
        guard let text else { return 0 }
        if let milliseconds = utcSecondsMilliseconds(text) { return milliseconds }
        guard let date = date(text) else {
            throw IngestRefusal(reason: "invalid-field", detail: "\(field): expected ISO 8601, for example 2026-11-23T19:00:00Z")
        }
        return Int64(date.timeIntervalSince1970 * 1000)
    }

    /// `text` as an ISO 8601 date and time, with or without fractional seconds (Segment writes `.000Z`).
    static func date(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// The common form, `YYYY-MM-DDTHH:MM:SSZ` (optionally `.000Z`, as Segment writes it), read without
    /// Foundation's parser, which costs more than the rest of an event. Only whole seconds of a valid UTC
    /// time from 1970 on are read here; anything else (offsets, fractions, leap seconds) is left to
    /// `date(_:)`, so both paths answer the same for every text this one takes.
    static func utcSecondsMilliseconds(_ text: String) -> Int64? {
        let bytes = text.utf8.span
        guard bytes.count == 20 || bytes.count == 24 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<(start + count) {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":"), bytes[bytes.count - 1] == UInt8(ascii: "Z")
        else { return nil }
        if bytes.count == 24 {
            guard bytes[19] == UInt8(ascii: "."), digits(20, 3) == 0 else { return nil }
        }
        guard let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2), let hour = digits(11, 2), let minute = digits(14, 2),
            let second = digits(17, 2), year >= 1970, (1...12).contains(month), day >= 1, day <= daysIn(month, of: year), hour < 24, minute < 60,
            second < 60
        else { return nil }
        let days = daysSince1970(year: year, month: month, day: day)
        return Int64(((days * 24 + hour) * 60 + minute) * 60 + second) * 1000
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
        let era = shiftedYear / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
