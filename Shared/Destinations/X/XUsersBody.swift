import Wire

/// The body of `POST custom_audiences/{id}/users`: one operation per user, so that X's
/// `operation_errors` (by operation index) name the refused users exactly.
enum XUsersBody {
    /// The keys in a fixed order, so a user's identifiers group under one key each.
    private static let order: [(key: StaticString, types: [IdentifierType])] = [
        ("email", [.email]), ("phone_number", [.phone]), ("device_id", [.idfa, .gaid, .androidID]), ("handle", [.xHandle]), ("twitter_id", [.xID]),
    ]

    static func encode(_ operation: BatchOperation, users: [BatchUser]) -> [UInt8] {
        var writer = JSONBodyWriter(capacity: 64 + users.count * 140)
        writer.raw("[")
        for (index, user) in users.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw(operation == .remove ? #"{"operation_type":"Delete","params":{"users":[{"# : #"{"operation_type":"Update","params":{"users":[{"#)
            var firstKey = true
            for (key, types) in order {
                var firstValue = true
                for identifier in user.identifiers where types.contains(identifier.type) {
                    if firstValue {
                        if !firstKey { writer.raw(",") }
                        writer.raw("\"")
                        writer.raw(key)
                        writer.raw("\":[")
                        firstKey = false
                    } else {
                        writer.raw(",")
                    }
                    writer.hexString(identifier.sha256)
                    firstValue = false
                }
                if !firstValue { writer.raw("]") }
            }
            writer.raw("}]}}")
        }
        writer.raw("]")
        return writer.bytes
    }
}
