import Foundation
import JSON

/// Typed reads of one upstream JSON object, each naming its path when the value is refused.
///
/// `null` reads as absent (as in every CDP's JSON). A value of the wrong type, over its bound, or under a
/// key written twice is refused: a duplicated key means one thing to JavaScript and another to Foundation.
struct FieldReader {
    let object: JSONObject
    /// The path of this object, `""` for the record itself, `user` or `context.traits` below it.
    let path: String

    init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    /// The path of `key` inside this object, as refusals name it.
    func path(of key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The value under `key`; `shownAs` replaces the key in refusals when the key itself is data.
    func node(_ key: String, shownAs shown: String? = nil) throws(IngestRefusal) -> JSONNode? {
        do {
            let value = try object.value(key)
            return value == .null ? nil : value
        } catch {
            throw IngestRefusal(reason: "invalid-json", detail: "\(shown ?? path(of: key)): the key appears more than once; send each field once")
        }
    }

    func string(_ key: String, bound: Int) throws(IngestRefusal) -> String? {
        switch try node(key) {
        case nil: return nil
        case .string(let text)?:
            let length = text.utf8.count
            guard length <= bound else {
                throw IngestRefusal(reason: "invalid-field", detail: "\(path(of: key)): \(length) bytes; at most \(bound)")
            }
            return text
        case let other?: throw mismatch(path(of: key), "a string", other)
        }
    }

    func bool(_ key: String, shownAs shown: String? = nil) throws(IngestRefusal) -> Bool? {
        switch try node(key, shownAs: shown) {
        case nil: return nil
        case .bool(let value)?: return value
        case let other?: throw mismatch(shown ?? path(of: key), "true or false", other)
        }
    }

    func integer(_ key: String) throws(IngestRefusal) -> Int64? {
        switch try node(key) {
        case nil: return nil
        case .number(let text)?:
            if let value = Int64(text) { return value }
            // `1e3` and `100.0` are integers too, as JSONDecoder read them.
            guard let double = Double(text), double == double.rounded(), abs(double) < 9.0e15 else {
                throw IngestRefusal(reason: "invalid-field", detail: "\(path(of: key)): expected an integer")
            }
            return Int64(double)
        case let other?: throw mismatch(path(of: key), "an integer", other)
        }
    }

    func object(_ key: String) throws(IngestRefusal) -> FieldReader? {
        switch try node(key) {
        case nil: return nil
        case .object(let object)?: return FieldReader(object, path: path(of: key))
        case let other?: throw mismatch(path(of: key), "an object", other)
        }
    }

    private func mismatch(_ shownPath: String, _ expected: String, _ found: JSONNode) -> IngestRefusal {
        IngestRefusal(reason: "invalid-field", detail: "\(shownPath): expected \(expected), found \(found.kindDescription)")
    }
}
