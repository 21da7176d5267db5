import Foundation
@testable import IngestCore
import Testing

/// Event times are read by hand, strictly: every valid time must read as Foundation's ISO 8601 parser reads
/// it, and what Foundation would roll over or cut short is refused.
@Suite("Event times")
struct EventTimeTests {
    /// Foundation's answer for a valid time, the reference.
    func foundation(_ text: String) -> Int64? {
        let strategy = Date.ISO8601FormatStyle(includingFractionalSeconds: text.contains("."))
        return (try? Date(text, strategy: strategy)).map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) }
    }

    @Test("every day of ordinary, leap and century years, at varied times, reads as Foundation reads it")
    func everyDay() throws {
        var checked = 0
        for year in [1969, 1970, 1999, 2000, 2024, 2025, 2026, 2100, 2400, 9999] {
            for month in 1...12 {
                for day in 1...31 {
                    let hour = (day * 7 + month) % 24
                    let minute = (day * 13) % 60
                    let second = (day * 29 + month) % 60
                    let text = String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, hour, minute, second)
                    let parsed = EventTime.parse(text)
                    let calendar = Calendar(identifier: .gregorian)
                    let exists = DateComponents(calendar: calendar, year: year, month: month, day: day).isValidDate(in: calendar)
                    if exists {
                        #expect(parsed != nil && parsed == foundation(text), "\(text)")
                        checked += 1
                    } else {
                        #expect(parsed == nil, "\(text): a day that does not exist")
                    }
                }
            }
        }
        #expect(checked == 10 * 365 + 3, "three of the ten years are leap years")
    }

    @Test("fractions, zones and lowercase letters", arguments: [
        ("2026-11-23T19:00:00.000Z", 1_795_460_400_000), ("2026-11-23T19:00:00.123Z", 1_795_460_400_123),
        ("2026-11-23T19:00:00.5Z", 1_795_460_400_500), ("2026-11-23T19:00:00.999999999Z", 1_795_460_400_999),
        ("2026-11-23T20:00:00+01:00", 1_795_460_400_000), ("2026-11-23T14:30:00-04:30", 1_795_460_400_000),
        ("2026-11-23t19:00:00z", 1_795_460_400_000), ("1970-01-01T00:00:00.001Z", 1),
    ] as [(String, Int64)])
    func forms(_ text: String, _ expected: Int64) throws {
        #expect(EventTime.parse(text) == expected)
        #expect(try EventTime.milliseconds(text, field: "timestamp") == expected)
    }

    @Test("an event time at or before 1970-01-01T00:00:00Z reads as that instant but is refused as an event time", arguments: [
        ("1970-01-01T00:00:00Z", 0), ("1970-01-01T01:00:00+01:00", 0), ("1969-12-31T23:59:59Z", -1_000), ("1969-12-31T23:59:59.5Z", -500),
        ("0000-01-01T00:00:00Z", -62_167_219_200_000),
    ] as [(String, Int64)])
    func notAfterTheEpoch(_ text: String, _ instant: Int64) throws {
        #expect(EventTime.parse(text) == instant)
        let error = #expect(throws: IngestRefusal.self) { try EventTime.milliseconds(text, field: "timestamp") }
        #expect(error?.reason == "invalid-field")
        #expect(error?.detail.hasPrefix("timestamp: not after 1970-01-01T00:00:00Z") == true)
    }

    @Test("times that do not exist, or carry anything more, are refused", arguments: [
        "2026-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-11-00T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T19:60:00Z", "2026-11-23T23:59:60Z",
        "2026-11-23T19:00:00Zalice@example.com", "2026-11-23T19:00:00Z ", "2026-11-23T19:00:00ZZ", "2026-11-23T19:00:00+01:00junk",
        "2026-11-23T19:00:00.000Zjunk", "2026-11-23T19:00:00Z\u{0}x", "2026-11-23T19:00:00", "2026-11-23T19:00Z", "2026-11-23 19:00:00Z",
        "20261123T190000Z", "2026-11-23T19:00:00.Z", "2026-11-23T19:00:00.1234567890Z", "2026-11-23T19:00:00+0100",
        "2026-11-23T19:00:00+24:00", "2026-11-23T19:00:00+01:60", "+2026-11-23T19:00:00Z", "", "2026-1-23T19:00:00Z",
    ])
    func refused(_ text: String) {
        #expect(EventTime.parse(text) == nil)
        #expect(throws: IngestRefusal.self) { try EventTime.milliseconds(text, field: "timestamp") }
    }

    @Test("a time written back (in DLQ excerpts) reads as the same instant, whatever the year", arguments: [
        ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"), ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
        ("9999-12-31T23:59:59-23:59", "10000-01-01T23:58:59Z"), ("0000-01-01T00:00:00+23:59", "-0001-12-31T00:01:00Z"),
        ("1600-02-29T12:00:00Z", "1600-02-29T12:00:00Z"), ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500Z"),
        ("2026-11-23T20:00:00.010+01:00", "2026-11-23T19:00:00.010Z"),
    ])
    func written(_ text: String, _ expected: String) throws {
        let milliseconds = try #require(EventTime.parse(text))
        #expect(EventTime.format(milliseconds: milliseconds) == expected)
    }

    @Test("10,000 random instants from year 0 to 9999 format and read back to the same millisecond")
    func roundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        let first = try #require(EventTime.parse("0000-01-01T00:00:00Z"))
        let last = try #require(EventTime.parse("9999-12-31T23:59:59.999Z"))
        for _ in 0..<10_000 {
            let instant = Int64.random(in: first...last, using: &generator)
            let text = EventTime.format(milliseconds: instant)
            #expect(EventTime.parse(text) == instant, "\(instant) \(text)")
        }
    }
}
