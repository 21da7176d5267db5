import Foundation

/// Event times as both upstream formats write them: ISO 8601 text.
enum EventTime {
    /// Milliseconds since 1970 of `text`, 0 when absent.
    /// - Throws: `IngestRefusal` `invalid-field` naming `field` when the text is not an ISO 8601 time.
    static func milliseconds(_ text: String?, field: String) throws(IngestRefusal) -> Int64 {
        guard let text else { return 0 }
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
}
