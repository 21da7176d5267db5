/// A short, redacted copy of a refused record for the DLQ: structure and field names stay, every string
/// value and number is masked, so an operator sees what was wrong without seeing who it was about.
///
/// Works on bytes, not on parsed JSON, because the records it sees are often not valid JSON.
enum ExcerptRedactor {
    /// Field values kept as they are: they name audiences and event kinds, never people.
    static let keptFields: Set<String> = ["type", "action", "event", "snapshot", "timestamp", "computation_key", "audience_key"]

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
                if isKey {
                    lastKey = String(decoding: content, as: UTF8.self)
                    out += [34] + content + [34]
                } else if keptFields.contains(lastKey) {
                    out += [34] + content + [34]
                } else {
                    out += Array("\"[redacted]\"".utf8)
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
