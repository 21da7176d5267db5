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
        // `1e3` and `100.0` are integers too, as JSONDecoder read them.
        guard let double = Double(text), double == double.rounded(), abs(double) < 9.0e15 else {
            throw IngestRefusal(reason: "invalid-field", detail: "\(path(of: key)): expected an integer")
        }
        return Int64(double)
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
