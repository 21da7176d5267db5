import Foundation

/// Reads a destination's JSON answer. The answers are small (ids, counts, errors), so Foundation's
/// parser is fine here; values are read at once and never leave the calling function.
enum ResponseJSON {
    /// The top-level object, or nil when the body is not a JSON object.
    static func object(_ body: [UInt8]) -> [String: Any]? {
        guard !body.isEmpty else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// An integer field that JSON may carry as an integer or a whole number.
    static func int(_ value: Any?) -> Int? {
        if let int = value as? Int { return int }
        if let number = value as? NSNumber { return number.intValue }
        return nil
    }

    /// An id field that JSON may carry as a string or a number.
    static func id(_ value: Any?) -> String? {
        if let string = value as? String, !string.isEmpty { return string }
        return int(value).map(String.init)
    }
}
