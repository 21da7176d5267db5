import Destinations
import Foundation
@testable import Sandbox
import Testing

@Suite("Sandbox: X Ads API v12 over HTTP")
struct XAdsAPITests {
    @Test("create, get, list and delete an audience; names are unique per account and refuse X's forbidden characters")
    func audienceLifecycle() async throws {
        let sandbox = try SandboxHarness()
        let id = try await sandbox.createXAudience(account: "acc1", name: "High value buyers (email)")
        let got = try await sandbox.x("GET", "/12/accounts/acc1/custom_audiences/\(id)")
        #expect(got.status == 200)
        #expect(got.data["name"] as? String == "High value buyers (email)")
        #expect(got.data["audience_size"] as? Int == 0)
        #expect(got.data["reasons_not_targetable"] as? [String] == ["TOO_SMALL"])

        let duplicate = try await sandbox.x("POST", "/12/accounts/acc1/custom_audiences", query: [("name", "High value buyers (email)")])
        #expect(duplicate.status == 400)
        #expect(duplicate.errorCode == "DUPLICATE_AUDIENCE_NAME")
        #expect(try await sandbox.createXAudience(account: "acc2", name: "High value buyers (email)") != "", "another account may reuse the name")
        let forbidden = try await sandbox.x("POST", "/12/accounts/acc1/custom_audiences", query: [("name", "a+b")])
        #expect(forbidden.status == 400)

        let list = try await sandbox.x("GET", "/12/accounts/acc1/custom_audiences")
        #expect((list.object["data"] as? [[String: Any]])?.count == 1)
        let deleted = try await sandbox.x("DELETE", "/12/accounts/acc1/custom_audiences/\(id)")
        #expect(deleted.status == 200)
        #expect(deleted.data["deleted"] as? Bool == true)
        #expect(try await sandbox.x("GET", "/12/accounts/acc1/custom_audiences/\(id)").status == 404)
    }

    @Test("a missing, forged or stale OAuth signature is refused with 401 and X's error body")
    func signatures() async throws {
        let sandbox = try SandboxHarness()
        let path = "/12/accounts/acc1/custom_audiences"
        let unsigned = try await sandbox.send("GET", path)
        #expect(unsigned.status == 401)
        #expect(unsigned.errorCode == "UNAUTHORIZED_ACCESS")
        let wrongSecret = OAuth1.Credentials(consumerKey: "sandbox-consumer-key", consumerSecret: "guess", token: "sandbox-token", tokenSecret: "sandbox-token-secret")
        #expect(try await sandbox.x("GET", path, credentials: wrongSecret).status == 401)
        let stale = try await sandbox.x("GET", path, timestamp: Int64(Date().timeIntervalSince1970) - 3_600)
        #expect(stale.status == 401)
        // A query parameter changed after signing breaks the signature.
        let header = OAuth1.authorizationHeader(
            method: "POST", baseURL: sandbox.base + path, query: [("name", "a")], credentials: SandboxHarness.credentials, nonce: "n",
            timestamp: Int64(Date().timeIntervalSince1970))
        let tampered = try await sandbox.send("POST", path + "?name=b", headers: ["Authorization": header])
        #expect(tampered.status == 401)
        #expect(try await sandbox.x("GET", path).status == 200)
    }

    @Test("Update adds users, Delete removes a user matched on any key it was added with, in one mixed request")
    func membership() async throws {
        let sandbox = try SandboxHarness()
        let id = try await sandbox.createXAudience(account: "acc1", name: "members")
        let path = "/12/accounts/acc1/custom_audiences/\(id)/users"
        let first = try await sandbox.x("POST", path, body: [
            xOperation("Update", [["email": ["ada"], "phone_number": ["ada-phone"]], ["email": ["bob"]], ["device_id": ["carol-idfa"]]]),
        ])
        #expect(first.status == 200)
        #expect(first.data["success_count"] as? Int == 1)
        #expect(first.data["total_count"] as? Int == 1)
        #expect(try await sandbox.recorded("x", id).count == 3)

        let mixed = try await sandbox.x("POST", path, body: [
            xOperation("Delete", [["phone_number": ["ada-phone"]]]),
            xOperation("Update", [["email": ["bob"], "handle": ["bob-handle"]]]),
            xOperation("Delete", [["device_id": ["carol-idfa"]]]),
        ])
        #expect(mixed.data["success_count"] as? Int == 3)
        let recorded = try await sandbox.recorded("x", id)
        #expect(recorded.members == [["email=\(digest("bob"))", "handle=\(digest("bob-handle"))"]])

        // For polling: `members=false` keeps the count and the fingerprint, `fingerprints=false` the count alone.
        let listed = try #require(recorded.entry["fingerprint"] as? String)
        for (query, fingerprint) in [("?members=false", listed as String?), ("?members=false&fingerprints=false", nil)] {
            let answer = try await sandbox.send("GET", "/_sandbox/audiences" + query)
            let entry = try #require((answer.object["audiences"] as? [[String: Any]])?.first { $0["id"] as? String == id }, "\(query)")
            #expect(entry["member_count"] as? Int == 1, "\(query)")
            #expect(entry["members"] == nil, "\(query)")
            #expect(entry["fingerprint"] as? String == fingerprint, "\(query)")
        }
    }

    @Test("operation errors are reported by index and the valid operations still apply")
    func operationErrors() async throws {
        let sandbox = try SandboxHarness()
        let id = try await sandbox.createXAudience(account: "acc1", name: "errors")
        let answer = try await sandbox.x("POST", "/12/accounts/acc1/custom_audiences/\(id)/users", body: [
            xOperation("Update", [["email": ["ok"]]]),
            ["operation_type": "Update", "params": ["users": [["email": [digest("x").uppercased()]]]]],
            ["operation_type": "Update", "params": ["users": [["email": ["not-a-digest"]]]]],
            ["operation_type": "Replace", "params": ["users": [["email": [digest("y")]]]]],
        ])
        #expect(answer.status == 200)
        #expect(answer.data["success_count"] as? Int == 1)
        #expect(answer.data["total_count"] as? Int == 4)
        let errors = answer.object["operation_errors"] as? [[String: Any]] ?? []
        #expect(errors.compactMap { $0["index"] as? Int } == [1, 2, 3])
        #expect(try await sandbox.recorded("x", id).count == 1)
    }

    @Test("more than 2,500 operations or 5,000,000 bytes in one request is a 400")
    func batchLimits() async throws {
        let sandbox = try SandboxHarness()
        let id = try await sandbox.createXAudience(account: "acc1", name: "limits")
        let path = "/12/accounts/acc1/custom_audiences/\(id)/users"
        let tooMany = (0..<2_501).map { xOperation("Update", [["email": ["u\($0)"]]]) }
        let refused = try await sandbox.x("POST", path, body: tooMany)
        #expect(refused.status == 400)
        #expect(refused.errorCode == "INVALID_PARAMETER")
        let accepted = try await sandbox.x("POST", path, body: Array(tooMany.prefix(2_500)))
        #expect(accepted.status == 200)
        #expect(accepted.data["success_count"] as? Int == 2_500)
        let big = Data(repeating: UInt8(ascii: " "), count: 5_000_001)
        #expect(try await sandbox.x("POST", path, rawBody: big).status == 400)
    }

    @Test("write rate limits answer 429 TOO_MANY_REQUESTS with the x-rate-limit headers")
    func rateLimits() async throws {
        // A day-long window: windows start on multiples of their length, and a minute one could roll over mid-test.
        let sandbox = try SandboxHarness(["--x-write-rate-limit", "3", "--x-audience-rate-limit", "100", "--rate-window-seconds", "86400"])
        var remaining: [String] = []
        for index in 0..<3 {
            let answer = try await sandbox.x("POST", "/12/accounts/acc1/custom_audiences", query: [("name", "a\(index)")])
            #expect(answer.status == 200)
            remaining.append(answer.headers["x-rate-limit-remaining"] ?? "")
        }
        #expect(remaining == ["2", "1", "0"])
        let limited = try await sandbox.x("POST", "/12/accounts/acc1/custom_audiences", query: [("name", "a3")])
        #expect(limited.status == 429)
        #expect(limited.errorCode == "TOO_MANY_REQUESTS")
        #expect(limited.headers["x-rate-limit-limit"] == "3")
        let reset = try #require(limited.headers["x-rate-limit-reset"].flatMap(Int64.init))
        #expect(reset > Int64(Date().timeIntervalSince1970) - 1)
        #expect(try await sandbox.x("GET", "/12/accounts/acc1/custom_audiences").status == 200, "reads are not writes")
        #expect(try await sandbox.x("POST", "/12/accounts/acc2/custom_audiences", query: [("name", "b")]).status == 200, "limits are per account")
    }

    @Test("audience_size is 0 and TOO_SMALL under 100 members, then rounded to two significant digits")
    func reportedSize() async throws {
        let sandbox = try SandboxHarness()
        let id = try await sandbox.createXAudience(account: "acc1", name: "size")
        let path = "/12/accounts/acc1/custom_audiences/\(id)/users"
        _ = try await sandbox.x("POST", path, body: (0..<99).map { xOperation("Update", [["email": ["s\($0)"]]]) })
        #expect(try await sandbox.x("GET", "/12/accounts/acc1/custom_audiences/\(id)").data["audience_size"] as? Int == 0)
        for start in stride(from: 99, to: 12_345, by: 2_500) {
            let operations = (start..<min(start + 2_500, 12_345)).map { xOperation("Update", [["email": ["s\($0)"]]]) }
            #expect(try await sandbox.x("POST", path, body: operations).status == 200)
        }
        let got = try await sandbox.x("GET", "/12/accounts/acc1/custom_audiences/\(id)")
        #expect(got.data["audience_size"] as? Int == 12_000)
        #expect(got.data["targetable"] as? Bool == true)
        #expect(try await sandbox.recorded("x", id).count == 12_345)
    }

    @Test("size rounding", arguments: [(0, 0), (99, 0), (100, 100), (149, 150), (12_345, 12_000), (12_500, 13_000), (987_654, 990_000)])
    func rounding(count: Int, reported: Int) {
        #expect(AudienceSizeReport.x(memberCount: count).size == reported)
    }
}
