import JSON

/// One element of the X `custom_audiences/{id}/users` operations array, validated.
///
/// The body is read once by the byte-level `JSONReader` into a flat index, and each element is checked on
/// its own: a malformed operation becomes a refusal at its index instead of failing the whole request,
/// which is how X reports `operation_errors`.
struct XUsersOperation: Sendable {
    let isDelete: Bool
    let users: [MemberSet.Member]

    /// Why an operation was refused, reported in `operation_errors` at its index.
    struct Refusal: Error, Sendable {
        let code: String
        let message: String
    }

    private static let shape = Refusal(
        code: "INVALID_PARAMETER",
        message: "an operation must be {\"operation_type\": \"Update\"|\"Delete\", \"params\": {\"users\": [{key: [digest, ...]}]}}")

    /// By key number: whether X takes that key in a user.
    private static let isUserKey: [Bool] = MemberSet.keys.map(XAdsAPI.userKeys.contains)

    private static func notDigests(_ operation: Int, _ user: Int, _ key: String) -> Refusal {
        Refusal(code: "INVALID_USER_DATA", message: "operation \(operation): users[\(user)].\(key) must hold lowercase SHA-256 hex digests")
    }

    /// Reads the request body.
    /// - Returns: nil when the body is not a JSON array at all.
    static func parseAll(_ body: [UInt8]) -> [Result<XUsersOperation, Refusal>]? {
        guard let document = try? JSONReader.document(body), document.kind(document.root) == .array else { return nil }
        return document.elements(of: document.root).enumerated().map { index, element in
            Result { () throws(Refusal) in try parse(document, element, index: index) }
        }
    }

    private static func parse(_ document: JSONDocument, _ operation: Int, index: Int) throws(Refusal) -> XUsersOperation {
        guard document.kind(operation) == .object else { throw shape }
        let typeIndex: Int?
        let paramsIndex: Int?
        do {
            typeIndex = try document.value("operation_type", in: operation)
            paramsIndex = try document.value("params", in: operation)
        } catch {
            throw shape
        }
        if let typeIndex, document.kind(typeIndex) != .string { throw shape }
        let type = typeIndex.map(document.string)
        guard type == "Update" || type == "Delete" else {
            throw Refusal(code: "INVALID_PARAMETER", message: "operation \(index): operation_type must be Update or Delete")
        }
        var usersIndex: Int?
        if let paramsIndex {
            guard document.kind(paramsIndex) == .object else { throw shape }
            do {
                usersIndex = try document.value("users", in: paramsIndex)
            } catch {
                throw shape
            }
        }
        if let usersIndex, document.kind(usersIndex) != .array { throw shape }
        guard let usersIndex, case let rawUsers = document.elements(of: usersIndex), !rawUsers.isEmpty else {
            throw Refusal(code: "INVALID_PARAMETER", message: "operation \(index): params.users must be a non-empty array")
        }
        var users: [MemberSet.Member] = []
        users.reserveCapacity(rawUsers.count)
        for (userIndex, user) in rawUsers.enumerated() {
            guard document.kind(user) == .object else { throw shape }
            guard !document.isEmpty(user) else {
                throw Refusal(code: "INVALID_USER_DATA", message: "operation \(index): users[\(userIndex)] must be a non-empty object")
            }
            // Up to 2,500 users per request: keys are told apart by their bytes and counted in a bit set, and a
            // refusal's message is written only when there is one, so a valid user costs no string.
            var member: MemberSet.Member = []
            var keysSeen: UInt16 = 0
            try document.forEachMember(of: user) { (keyIndex, valueIndex) throws(Refusal) in
                guard document.kind(valueIndex) == .array else { throw shape }
                guard let number = MemberSet.keyNumber(document.stringBytes(keyIndex)), Self.isUserKey[Int(number)] else {
                    throw Refusal(code: "INVALID_USER_DATA", message: "operation \(index): users[\(userIndex)].\(document.string(keyIndex)) is not a user key")
                }
                guard keysSeen & (1 << number) == 0 else { throw shape }
                keysSeen |= 1 << number
                guard !document.isEmpty(valueIndex) else { throw Self.notDigests(index, userIndex, document.string(keyIndex)) }
                try document.forEachElement(of: valueIndex) { (value) throws(Refusal) in
                    guard document.kind(value) == .string else { throw shape }
                    guard let identifier = MemberSet.Identifier(key: number, hex: document.stringBytes(value)) else {
                        throw Self.notDigests(index, userIndex, document.string(keyIndex))
                    }
                    member.append(identifier)
                }
            }
            users.append(member)
        }
        return XUsersOperation(isDelete: type == "Delete", users: users)
    }
}
