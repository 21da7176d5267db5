import Wire

/// The body of `POST custom_audiences/{id}/users`: one operation per user, so that X's
/// `operation_errors` (by operation index) name the refused users exactly.
enum XUsersBody {
    /// The `users` keys in the order they are written, so a user's identifiers group under one key each.
    private static let keys: [StaticString] = ["email", "phone_number", "device_id", "handle", "twitter_id"]

    /// The position in `keys` of the key an identifier type is sent under; -1 for `unspecified`, which X
    /// has no key for and which is left out.
    private static func keyPosition(_ type: IdentifierType) -> Int {
        switch type {
        case .email: 0
        case .phone: 1
        case .idfa, .gaid, .androidID: 2
        case .xHandle: 3
        case .xID: 4
        case .unspecified: -1
        }
    }

    static func encode(_ operation: BatchOperation, users: [BatchUser]) -> [UInt8] {
        var writer = JSONBodyWriter(capacity: 64 + users.count * 140)
        let opening: StaticString = operation == .remove ? #"{"operation_type":"Delete","params":{"users":[{"# : #"{"operation_type":"Update","params":{"users":[{"#
        writer.raw("[")
        for user in users {
            if writer.bytes.count > 1 { writer.raw(",") }
            writer.raw(opening)
            let identifiers = user.identifiers.span
            // Which keys the user has, as bits: one pass to find them, one per key present to write its values.
            var present = 0
            for position in identifiers.indices {
                let key = keyPosition(identifiers[position].type)
                if key >= 0 { present |= 1 << key }
            }
            var firstKey = true
            while present != 0 {
                let key = present.trailingZeroBitCount
                present &= present - 1
                if !firstKey { writer.raw(",") }
                firstKey = false
                writer.raw("\"")
                writer.raw(keys[key])
                writer.raw("\":[")
                var firstValue = true
                for position in identifiers.indices where keyPosition(identifiers[position].type) == key {
                    if !firstValue { writer.raw(",") }
                    firstValue = false
                    writer.hexString(identifiers[position].sha256)
                }
                writer.raw("]")
            }
            writer.raw("}]}}")
        }
        writer.raw("]")
        return writer.bytes
    }
}
