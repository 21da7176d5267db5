import Foundation

/// One element of the X `custom_audiences/{id}/users` operations array, validated.
///
/// Decoded with `JSONDecoder` element by element: a malformed operation becomes a refusal at its index
/// instead of failing the whole request, which is how X reports `operation_errors`.
struct XUsersOperation: Sendable {
    let isDelete: Bool
    let users: [MemberSet.Member]

    /// Why an operation was refused, reported in `operation_errors` at its index.
    struct Refusal: Error, Sendable {
        let code: String
        let message: String
    }

    /// The wire shape of one operation; every field optional so the checks below can name what is missing.
    private struct Payload: Decodable {
        struct Params: Decodable {
            let users: [User]?
        }

        /// A user object: identifier key → values, decoded key by key (faster than a generic dictionary).
        struct User: Decodable {
            let identifiers: [(key: String, values: [String])]

            struct Key: CodingKey {
                let stringValue: String
                var intValue: Int? { nil }
                init(stringValue: String) { self.stringValue = stringValue }
                init?(intValue: Int) { nil }
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Key.self)
                identifiers = try container.allKeys.map { ($0.stringValue, try container.decode([String].self, forKey: $0)) }
            }
        }
        let operation_type: String?
        let params: Params?
    }

    /// One array element: the payload, or the decoding error that makes it a refusal.
    private struct Element: Decodable {
        let payload: Result<Payload, Refusal>

        init(from decoder: any Decoder) {
            do {
                payload = .success(try Payload(from: decoder))
            } catch {
                payload = .failure(Refusal(
                    code: "INVALID_PARAMETER",
                    message: "an operation must be {\"operation_type\": \"Update\"|\"Delete\", \"params\": {\"users\": [{key: [digest, ...]}]}}"))
            }
        }
    }

    /// Decodes the request body.
    /// - Returns: nil when the body is not a JSON array at all.
    static func parseAll(_ body: [UInt8]) -> [Result<XUsersOperation, Refusal>]? {
        guard let elements = try? JSONDecoder().decode([Element].self, from: Data(body)) else { return nil }
        return elements.enumerated().map { index, element in element.payload.flatMap { validate($0, index: index) } }
    }

    private static func validate(_ payload: Payload, index: Int) -> Result<XUsersOperation, Refusal> {
        guard let type = payload.operation_type, type == "Update" || type == "Delete" else {
            return .failure(Refusal(code: "INVALID_PARAMETER", message: "operation \(index): operation_type must be Update or Delete"))
        }
        guard let rawUsers = payload.params?.users, !rawUsers.isEmpty else {
            return .failure(Refusal(code: "INVALID_PARAMETER", message: "operation \(index): params.users must be a non-empty array"))
        }
        var users: [MemberSet.Member] = []
        users.reserveCapacity(rawUsers.count)
        for (userIndex, user) in rawUsers.enumerated() {
            guard !user.identifiers.isEmpty else {
                return .failure(Refusal(code: "INVALID_USER_DATA", message: "operation \(index): users[\(userIndex)] must be a non-empty object"))
            }
            var member: MemberSet.Member = [:]
            for (key, digests) in user.identifiers {
                guard XAdsAPI.userKeys.contains(key) else {
                    return .failure(Refusal(code: "INVALID_USER_DATA", message: "operation \(index): users[\(userIndex)].\(key) is not a user key"))
                }
                guard !digests.isEmpty, digests.allSatisfy(SandboxJSON.isLowercaseDigest) else {
                    return .failure(Refusal(
                        code: "INVALID_USER_DATA",
                        message: "operation \(index): users[\(userIndex)].\(key) must hold lowercase SHA-256 hex digests"))
                }
                member[key] = Set(digests)
            }
            users.append(member)
        }
        return .success(XUsersOperation(isDelete: type == "Delete", users: users))
    }
}
