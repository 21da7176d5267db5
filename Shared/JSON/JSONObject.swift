/// A JSON object's members in the order they were written.
///
/// Lookups refuse a key that appears more than once: JavaScript and Python take the last of two, Foundation
/// the first, so a duplicated key means different things to different readers and must not be guessed.
public struct JSONObject: Sendable, Equatable {
    /// One `"key": value` pair.
    public struct Member: Sendable, Equatable {
        /// The key as written (escapes resolved).
        public let key: String
        public let value: JSONNode
    }

    /// Every member, duplicates included, in the order written.
    public let members: [Member]

    public init(members: [Member]) {
        self.members = members
    }

    /// The value of `key`, or nil when the object has no such member.
    /// - Throws: `JSONDuplicateKey` when `key` appears more than once.
    ///
    /// Keys compare byte for byte, as JavaScript compares them: `"K"` and KELVIN SIGN are two keys, not one
    /// (Swift's `==` would call canonically equivalent strings equal).
    public func value(_ key: String) throws(JSONDuplicateKey) -> JSONNode? {
        var found: JSONNode?
        for member in members where Self.sameBytes(member.key, key) {
            if found != nil { throw JSONDuplicateKey(key: key) }
            found = member.value
        }
        return found
    }

    /// Whether two strings have the same UTF-8 bytes; ingest looks up every field of every record this way.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        let left = a.utf8.span
        let right = b.utf8.span
        guard left.count == right.count else { return false }
        for index in left.indices where left[index] != right[index] {
            return false
        }
        return true
    }

    /// The first key that appears more than once, if any.
    public var firstDuplicateKey: String? {
        var seen = Set<[UInt8]>()
        for member in members where !seen.insert(Array(member.key.utf8)).inserted {
            return member.key
        }
        return nil
    }
}
