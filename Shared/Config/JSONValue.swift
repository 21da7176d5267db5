import Foundation
import JSON

/// A parsed JSON value that keeps booleans and numbers apart, for validation that names exact types.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text strictly: a syntax error names its line and column, a key written twice in one
    /// object is refused rather than silently read one way or the other.
    /// - Throws: `ConfigError` at the path of a duplicate key, or at `$` naming where the syntax breaks.
    public static func parse(_ data: Data) throws(ConfigError) -> JSONValue {
        let node: JSONNode
        do {
            node = try JSONReader.parse(Array(data))
        } catch {
            throw ConfigError(path: "$", found: "text that is not valid JSON at \(error)", allowed: "a JSON object with connections and syncs")
        }
        return try JSONValue(node, path: "$")
    }

    private init(_ node: JSONNode, path: String) throws(ConfigError) {
        switch node {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .number(let text): self = .number(Double(text) ?? .nan)
        case .string(let value): self = .string(value)
        case .array(let elements):
            var values: [JSONValue] = []
            for (index, element) in elements.enumerated() {
                values.append(try JSONValue(element, path: "\(path)[\(index)]"))
            }
            self = .array(values)
        case .object(let object):
            if let duplicate = object.firstDuplicateKey {
                throw ConfigError(path: "\(path).\(duplicate)", found: "the key written more than once", allowed: "each key once per object")
            }
            var values: [String: JSONValue] = [:]
            for member in object.members {
                values[member.key] = try JSONValue(member.value, path: "\(path).\(member.key)")
            }
            self = .object(values)
        }
    }

    /// A short, secret-free description of the value's type for error messages.
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool(let value): "boolean \(value)"
        case .number(let value): "number \(value)"
        case .string(let value): value.isEmpty ? "an empty string" : "a string"
        case .array(let values): "an array of \(values.count)"
        case .object: "an object"
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}
