import Foundation
@testable import IngestCore
import Testing

/// The fast reading of `YYYY-MM-DDTHH:MM:SSZ` must agree with Foundation's ISO 8601 parser on every text it
/// takes, and leave every other text to it.
@Suite("Event times")
struct EventTimeTests {
    /// Foundation's answer, the reference.
    func reference(_ text: String) -> Int64? {
        EventTime.date(text).map { Int64($0.timeIntervalSince1970 * 1000) }
    }

    @Test("every day of ordinary, leap and century years, at varied times, reads as Foundation reads it")
    func agreesWithFoundation() throws {
        var checked = 0
        for year in [1970, 1999, 2000, 2024, 2025, 2026, 2100, 2400, 9999] {
            for month in 1...12 {
                for day in 1...31 {
                    let hour = (day * 7 + month) % 24
                    let minute = (day * 13) % 60
                    let second = (day * 29 + month) % 60
                    let text = String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, hour, minute, second)
                    let fast = EventTime.utcSecondsMilliseconds(text)
                    let expected = reference(text)
                    if let fast {
                        #expect(fast == expected, "\(text)")
                        checked += 1
                    } else {
                        #expect(expected == nil || day > 28, "\(text): a valid time left to Foundation")
                    }
                    #expect((try? EventTime.milliseconds(text, field: "timestamp")) == expected, "\(text)")
                }
            }
        }
        #expect(checked == 9 * 365 + 3, "three of the nine years are leap years")
    }

    @Test("texts outside the fast form are Foundation's to read or refuse", arguments: [
        "2026-02-29T00:00:00Z", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T23:60:00Z",
        "2026-11-23T23:59:60Z", "2026-11-23t19:00:00Z", "2026-11-23T19:00:00z", "2026-11-23T19:00:00.123Z", "2026-11-23T19:00:00.000Z",
        "2026-11-23T19:00:00+01:00", "1969-12-31T23:59:59Z", "2026-11-23 19:00:00Z", "2026-11-23T19:00Z", "20261123T190000Z", "",
    ])
    func othersAreFoundations(_ text: String) {
        let fast = EventTime.utcSecondsMilliseconds(text)
        if let fast { #expect(fast == reference(text)) }
        #expect((try? EventTime.milliseconds(text, field: "timestamp")) == (text.isEmpty ? nil : reference(text)))
    }
}
