import Foundation
import JSON

/// Typed reads of one upstream JSON object, each naming its path when the value is refused.
///
/// `null` reads as absent (as in every CDP's JSON). A value of the wrong type, over its bound, or under a
/// key written twice is refused: a duplicated key means one thing to JavaScript and another to Foundation.
/// Reads go straight to the record's `JSONDocument`: only the values asked for become strings.
struct FieldReader {
    let document: JSONDocument
    /// The object's index in `document`.
    let object: Int
    /// The path of this object, `""` for the record itself, `user` or `context.traits` below it.
    let path: String

    init(_ document: JSONDocument, object: Int, path: String = "") {
        self.document = document
        self.object = object
        self.path = path
    }

    /// The path of `key` inside this object, as refusals name it.
    func path(of key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The index of the value under `key`; `shownAs` replaces the key in refusals when the key itself is data.
    func node(_ key: String, shownAs shown: String? = nil) throws(IngestRefusal) -> Int? {
        do {
            guard let value = try document.value(key, in: object) else { return nil }
            return document.kind(value) == .null ? nil : value
        } catch {
            throw IngestRefusal(reason: "invalid-json", detail: "\(shown ?? path(of: key)): the key appears more than once; send each field once")
        }
    }

    func string(_ key: String, bound: Int) throws(IngestRefusal) -> String? {
        guard let value = try node(key) else { return nil }
        guard document.kind(value) == .string else { throw mismatch(path(of: key), "a string", value) }
        let text = document.string(value)
        let length = text.utf8.count
        guard length <= bound else {
            throw IngestRefusal(reason: "invalid-field", detail: "\(path(of: key)): \(length) bytes; at most \(bound)")
        }
        return text
    }

    /// As `string(_:bound:)`, with the text copied into `text` rather than made a `String`: where it lies there.
    func text(_ key: String, bound: Int, into text: inout FieldText) throws(IngestRefusal) -> Range<Int>? {
        guard let value = try node(key) else { return nil }
        guard document.kind(value) == .string else { throw mismatch(path(of: key), "a string", value) }
        let bytes = document.stringBytes(value)
        guard bytes.count <= bound else {
            throw IngestRefusal(reason: "invalid-field", detail: "\(path(of: key)): \(bytes.count) bytes; at most \(bound)")
        }
        return text.append(bytes)
    }

    func bool(_ key: String, shownAs shown: String? = nil) throws(IngestRefusal) -> Bool? {
        guard let value = try node(key, shownAs: shown) else { return nil }
        guard document.kind(value) == .bool else { throw mismatch(shown ?? path(of: key), "true or false", value) }
        return document.bool(value)
    }

    func integer(_ key: String) throws(IngestRefusal) -> Int64? {
        guard let value = try node(key) else { return nil }
        guard document.kind(value) == .number else { throw mismatch(path(of: key), "an integer", value) }
        let text = document.numberText(value)
        if let integer = Int64(text) { return integer }
        // `1e3` and `100.0` are integers too, as JSONDecoder read them; `5.0000000000000001` is not, though a
        // double would round it to one, so the digits are read exactly.
        guard let integer = Self.exactInteger(text) else {
            throw IngestRefusal(reason: "invalid-field", detail: "\(path(of: key)): expected an integer")
        }
        return integer
    }

    /// The value of a JSON number's text when it is a whole number below 9×10¹⁵ (the bound the double
    /// reading had), read digit by digit with its exponent; nil otherwise.
    static func exactInteger(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { index += 1 }
        var digits: [UInt8] = []
        var pointAt: Int?
        while index < bytes.count, bytes[index] != UInt8(ascii: "e"), bytes[index] != UInt8(ascii: "E") {
            if bytes[index] == UInt8(ascii: ".") {
                pointAt = digits.count
            } else {
                digits.append(bytes[index] - UInt8(ascii: "0"))
            }
            index += 1
        }
        var exponent = 0
        if index < bytes.count {
            guard let value = Int(String(decoding: bytes[(index + 1)...], as: UTF8.self).replacingOccurrences(of: "+", with: "")),
                // `magnitude`, not `abs`: the exponent may be `Int.min`, whose absolute value does not exist.
                value.magnitude < 1_000
            else { return nil }
            exponent = value
        }
        // The digits before the decimal point once the exponent moved it; every digit after it must be zero.
        let whole = (pointAt ?? digits.count) + exponent
        var value: Int64 = 0
        for (position, digit) in digits.enumerated() {
            if position < whole {
                value = value * 10 + Int64(digit)
                guard value < 9_000_000_000_000_000 else { return nil }
            } else if digit != 0 {
                return nil
            }
        }
        for _ in digits.count..<max(whole, digits.count) {
            value *= 10
            guard value < 9_000_000_000_000_000 else { return nil }
        }
        return negative ? -value : value
    }

    func object(_ key: String) throws(IngestRefusal) -> FieldReader? {
        guard let value = try node(key) else { return nil }
        guard document.kind(value) == .object else { throw mismatch(path(of: key), "an object", value) }
        return FieldReader(document, object: value, path: path(of: key))
    }

    private func mismatch(_ shownPath: String, _ expected: String, _ found: Int) -> IngestRefusal {
        IngestRefusal(reason: "invalid-field", detail: "\(shownPath): expected \(expected), found \(document.kindDescription(found))")
    }
}
