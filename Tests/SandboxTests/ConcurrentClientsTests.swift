import Foundation
@testable import Sandbox
import Testing

/// Eight clients at once, adding overlapping users and removing some of their own: the sandbox must end
/// with exactly the expected members, digest for digest, for both APIs.
@Suite("Sandbox: concurrent clients")
struct ConcurrentClientsTests {
    static let clients = 8
    static let users = 480

    /// Client c adds users [60c, 60c + 90): 30 of them shared with the next client.
    static func range(_ client: Int) -> Range<Int> { (client * 60)..<min(client * 60 + 90, users) }

    /// Users only client c adds, a third of which it removes again.
    static func removed(_ client: Int) -> [Int] {
        range(client).filter { user in
            (0..<clients).allSatisfy { $0 == client || !range($0).contains(user) } && user % 3 == 0
        }
    }

    /// Even clients add a second key of one kind, odd clients of another; shared users end with both.
    static func expected(emailKey: String, evenKey: String, oddKey: String) -> Set<Set<String>> {
        var members: [Int: Set<String>] = [:]
        for client in 0..<clients {
            for user in range(client) {
                members[user, default: []].insert("\(emailKey)=\(digest("e\(user)"))")
                members[user]!.insert(client % 2 == 0 ? "\(evenKey)=\(digest("p\(user)"))" : "\(oddKey)=\(digest("h\(user)"))")
            }
        }
        for client in 0..<clients {
            for user in removed(client) { members[user] = nil }
        }
        return Set(members.values)
    }

    @Test("X: 8 clients adding and removing overlapping users leave exactly the expected set")
    func xClients() async throws {
        let sandbox = try SandboxHarness()
        let id = try await sandbox.createXAudience(account: "acc1", name: "concurrent")
        let path = "/12/accounts/acc1/custom_audiences/\(id)/users"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<Self.clients {
                group.addTask {
                    let key = client % 2 == 0 ? "phone_number" : "handle"
                    let users = Array(Self.range(client))
                    for start in stride(from: 0, to: users.count, by: 10) {
                        let operations = users[start..<min(start + 10, users.count)].map { user in
                            xOperation("Update", [["email": ["e\(user)"], key: [client % 2 == 0 ? "p\(user)" : "h\(user)"]]])
                        }
                        let answer = try await sandbox.x("POST", path, body: operations)
                        #expect(answer.status == 200 && answer.data["success_count"] as? Int == operations.count)
                    }
                    let removals = Self.removed(client).map { user in xOperation("Delete", [[key: [client % 2 == 0 ? "p\(user)" : "h\(user)"]]]) }
                    #expect(try await sandbox.x("POST", path, body: removals).status == 200)
                }
            }
            try await group.waitForAll()
        }
        let recorded = try await sandbox.recorded("x", id)
        let expected = Self.expected(emailKey: "email", evenKey: "phone_number", oddKey: "handle")
        #expect(recorded.count == expected.count)
        #expect(recorded.members == expected)
    }

    @Test("TikTok: 8 clients adding and removing overlapping users leave exactly the expected set")
    func tiktokClients() async throws {
        let sandbox = try SandboxHarness()
        let id = try await sandbox.createTikTokAudience(advertiser: "adv1", name: "concurrent")
        let schema = ["EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256"]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<Self.clients {
                group.addTask {
                    func row(_ user: Int, email: Bool) -> [[String: Any]] {
                        let second: [String: Any] = ["id": digest(client % 2 == 0 ? "p\(user)" : "h\(user)"), "audience_ids": [id]]
                        let first: [String: Any] = email ? ["id": digest("e\(user)"), "audience_ids": [id]] : [:]
                        return client % 2 == 0 ? [first, second, [:]] : [first, [:], second]
                    }
                    let users = Array(Self.range(client))
                    for start in stride(from: 0, to: users.count, by: 15) {
                        let rows = users[start..<min(start + 15, users.count)].map { row($0, email: true) }
                        let answer = try await sandbox.tiktok("/segment/mapping/", ["advertiser_ids": ["adv1"], "action": "add", "id_schema": schema, "batch_data": rows])
                        #expect(answer.code == 0)
                    }
                    let removals = Self.removed(client).map { row($0, email: false) }
                    let answer = try await sandbox.tiktok("/segment/mapping/", ["advertiser_ids": ["adv1"], "action": "delete", "id_schema": schema, "batch_data": removals])
                    #expect(answer.code == 0)
                }
            }
            try await group.waitForAll()
        }
        let recorded = try await sandbox.recorded("tiktok", id)
        let expected = Self.expected(emailKey: "EMAIL_SHA256", evenKey: "PHONE_SHA256", oddKey: "IDFA_SHA256")
        #expect(recorded.count == expected.count)
        #expect(recorded.members == expected)
    }
}
