import Foundation

/// Reads a destination's JSON answer. The answers are small (ids, counts, errors), so Foundation's
/// parser is fine here; values are read at once and never leave the calling function.
enum ResponseJSON {
    /// The top-level object, or nil when the body is not a JSON object.
    static func object(_ body: [UInt8]) -> [String: Any]? {
        guard !body.isEmpty else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// An integer field that JSON may carry as an integer or a whole number (`2.0`); a fraction or a number
    /// beyond 64 bits is none: TikTok's `{"code": 0.5}` must not read as success (code 0).
    static func int(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        // `int64Value` is exact for every integer JSON carries; it agrees with the double unless the number had
        // a fraction or was beyond 64 bits.
        guard double.isFinite, double.rounded(.towardZero) == double, Double(number.int64Value) == double else { return nil }
        return Int(exactly: number.int64Value)
    }

    /// An id field that JSON may carry as a string or a number: 1 to 64 letters, digits, `_` or `-`, as X's and
    /// TikTok's ids are. Anything else is no id: it goes into URL paths (`..` would climb out of the audience)
    /// and into the audiences topic, and a destination that sends one has answered wrongly.
    static func id(_ value: Any?) -> String? {
        let text: String
        if let string = value as? String {
            text = string
        } else if let number = int(value) {
            text = String(number)
        } else {
            return nil
        }
        let plain = text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        return (1...64).contains(text.utf8.count) && plain ? text : nil
    }
}
