/// One element of the X `custom_audiences/{id}/users` operations array, validated.
struct XUsersOperation: Sendable {
    let isDelete: Bool
    let users: [MemberSet.Member]

    /// Why an operation was refused, reported in `operation_errors` at its index.
    struct Refusal: Error, Sendable {
        let code: String
        let message: String
    }

    static func parse(_ element: Any, index: Int) -> Result<XUsersOperation, Refusal> {
        guard let object = element as? [String: Any] else {
            return .failure(Refusal(code: "INVALID_PARAMETER", message: "operation \(index) must be an object"))
        }
        guard let type = object["operation_type"] as? String, type == "Update" || type == "Delete" else {
            return .failure(Refusal(code: "INVALID_PARAMETER", message: "operation \(index): operation_type must be Update or Delete"))
        }
        guard let params = object["params"] as? [String: Any], let rawUsers = params["users"] as? [Any], !rawUsers.isEmpty else {
            return .failure(Refusal(code: "INVALID_PARAMETER", message: "operation \(index): params.users must be a non-empty array"))
        }
        var users: [MemberSet.Member] = []
        for (userIndex, rawUser) in rawUsers.enumerated() {
            guard let user = rawUser as? [String: Any], !user.isEmpty else {
                return .failure(Refusal(code: "INVALID_USER_DATA", message: "operation \(index): users[\(userIndex)] must be a non-empty object"))
            }
            var member: MemberSet.Member = [:]
            for (key, value) in user {
                guard XAdsAPI.userKeys.contains(key) else {
                    return .failure(Refusal(code: "INVALID_USER_DATA", message: "operation \(index): users[\(userIndex)].\(key) is not a user key"))
                }
                guard let digests = value as? [String], !digests.isEmpty else {
                    return .failure(Refusal(code: "INVALID_USER_DATA", message: "operation \(index): users[\(userIndex)].\(key) must be a non-empty array of strings"))
                }
                guard digests.allSatisfy(SandboxJSON.isLowercaseDigest) else {
                    return .failure(Refusal(code: "INVALID_USER_DATA", message: "operation \(index): users[\(userIndex)].\(key) holds a value that is not a lowercase SHA-256 hex digest"))
                }
                member[key] = Set(digests)
            }
            users.append(member)
        }
        return .success(XUsersOperation(isDelete: type == "Delete", users: users))
    }
}
