import Foundation

/// A short, redacted copy of a refused record for the DLQ: the structure stays, and only names and values
/// of the known schema are kept (an allow-list), so an operator sees what was wrong without seeing who it
/// was about. Any other member name (a trait named after an email address), every string value outside the
/// schema's enumerations, and every number is masked; a `timestamp` that parses is written anew from the
/// parsed time, never copied.
///
/// Works on bytes, not on parsed JSON, because the records it sees are often not valid JSON.
enum ExcerptRedactor {
    /// Member names of the native and Segment formats, kept as written.
    static let schemaNames: Set<String> = [
        "type", "audience", "id", "name", "action", "user", "email", "phone", "idfa", "gaid", "android_id", "x_handle", "x_id",
        "consent", "ads", "timestamp", "snapshot", "members", "event", "userId", "anonymousId", "traits", "context", "personas",
        "computation_key", "computation_class", "properties", "audience_key", "device", "advertisingId", "messageId",
    ]
    /// The only string values kept: the enumerations of the fields that name event kinds.
    static let schemaValues: [String: Set<String>] = [
        "type": ["membership", "snapshot_begin", "snapshot_member", "snapshot_end", "audience", "track", "identify"],
        "action": ["enter", "exit", "created", "renamed", "deleted"],
        "event": ["Audience Entered", "Audience Exited"],
    ]
    static let maskedName = "[name]"
    static let maskedValue = "[redacted]"

    static func excerpt(_ bytes: [UInt8], limit: Int = 512) -> String {
        var out: [UInt8] = []
        var index = 0
        var lastKey = ""
        let input = bytes.prefix(limit * 4)
        let array = Array(input)
        while index < array.count, out.count < limit {
            let byte = array[index]
            if byte == UInt8(ascii: "\"") {
                var end = index + 1
                while end < array.count, array[end] != UInt8(ascii: "\"") {
                    end += array[end] == UInt8(ascii: "\\") ? 2 : 1
                }
                let content = Array(array[(index + 1)..<min(end, array.count)])
                var after = end + 1
                while after < array.count, array[after] == 0x20 { after += 1 }
                let isKey = after < array.count && array[after] == UInt8(ascii: ":")
                let text = String(decoding: content, as: UTF8.self)
                if isKey {
                    lastKey = schemaNames.contains(text) ? text : ""
                    out += Array("\"\(lastKey.isEmpty ? maskedName : text)\"".utf8)
                } else if lastKey == "timestamp", let milliseconds = EventTime.parse(text) {
                    // Re-written, never copied: text around a time (an offset of +447911…) must not pass.
                    out += Array("\"\(EventTime.format(milliseconds: milliseconds))\"".utf8)
                } else if schemaValues[lastKey]?.contains(text) == true {
                    out += [34] + content + [34]
                } else {
                    out += Array("\"\(maskedValue)\"".utf8)
                }
                index = end + 1
            } else if byte >= 0x80 || ASCIIDigits.contains(byte) || isLetter(byte) {
                // A bare word or number outside a string: keep only true, false and null.
                var end = index
                while end < array.count, array[end] >= 0x80 || ASCIIDigits.contains(array[end]) || isLetter(array[end]) || "@.+-_".utf8.contains(array[end]) {
                    end += 1
                }
                let word = String(decoding: array[index..<end], as: UTF8.self)
                out += Array((["true", "false", "null"].contains(word) ? word : ASCIIDigits.contains(byte) ? "0" : "?").utf8)
                index = end
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(decoding: out.prefix(limit), as: UTF8.self)
    }

    private static let ASCIIDigits: ClosedRange<UInt8> = 0x30...0x39

    private static func isLetter(_ byte: UInt8) -> Bool {
        (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
    }
}
