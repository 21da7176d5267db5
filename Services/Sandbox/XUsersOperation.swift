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
            let members = document.members(of: user)
            guard !members.isEmpty else {
                throw Refusal(code: "INVALID_USER_DATA", message: "operation \(index): users[\(userIndex)] must be a non-empty object")
            }
            var member: MemberSet.Member = []
            var keysSeen: Set<String> = []
            for (keyIndex, valueIndex) in members {
                let key = document.string(keyIndex)
                guard document.kind(valueIndex) == .array, keysSeen.insert(key).inserted else { throw shape }
                guard XAdsAPI.userKeys.contains(key), let number = MemberSet.keyNumbers[key] else {
                    throw Refusal(code: "INVALID_USER_DATA", message: "operation \(index): users[\(userIndex)].\(key) is not a user key")
                }
                let values = document.elements(of: valueIndex)
                let notDigests = Refusal(code: "INVALID_USER_DATA", message: "operation \(index): users[\(userIndex)].\(key) must hold lowercase SHA-256 hex digests")
                guard !values.isEmpty else { throw notDigests }
                for value in values {
                    guard document.kind(value) == .string else { throw shape }
                    guard let identifier = MemberSet.Identifier(key: number, hex: document.stringBytes(value)) else { throw notDigests }
                    member.append(identifier)
                }
            }
            users.append(member)
        }
        return XUsersOperation(isDelete: type == "Delete", users: users)
    }
}
