/// A JSON value read by `JSONReader`, keeping what a strict reader must not lose: members in the order they
/// were written (duplicates included, so a caller can refuse them) and numbers as written.
public enum JSONNode: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's text as written (`-12`, `3.5e2`), so integers keep every digit.
    case number(String)
    case string(String)
    case array([JSONNode])
    case object(JSONObject)

    /// A short description of the value's kind for error messages; never the value itself.
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON object's members in the order they were written.
///
/// Lookups refuse a key that appears more than once: JavaScript and Python take the last of two, Foundation
/// the first, so a duplicated key means different things to different readers and must not be guessed.
public struct JSONObject: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public let key: String
        public let value: JSONNode
    }

    public let members: [Member]

    public init(members: [Member]) {
        self.members = members
    }

    /// The value of `key`, or nil when the object has no such member.
    /// - Throws: `JSONDuplicateKey` when `key` appears more than once.
    public func value(_ key: String) throws(JSONDuplicateKey) -> JSONNode? {
        var found: JSONNode?
        for member in members where member.key == key {
            if found != nil { throw JSONDuplicateKey(key: key) }
            found = member.value
        }
        return found
    }

    /// The first key that appears more than once, if any.
    public var firstDuplicateKey: String? {
        var seen = Set<String>()
        for member in members where !seen.insert(member.key).inserted {
            return member.key
        }
        return nil
    }
}

/// A key that appears more than once in one object.
public struct JSONDuplicateKey: Error, Sendable, Equatable {
    public let key: String
}
