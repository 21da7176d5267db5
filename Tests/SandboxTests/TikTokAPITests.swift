import Foundation
@testable import Sandbox
import Testing

@Suite("Sandbox: TikTok Business API v1.3 over HTTP")
struct TikTokAPITests {
    static let schema = ["EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256"]

    /// One batch_data row aligned with `schema`: a label per slot or nil for an absent id.
    func row(_ slots: [String?], audiences: [String]) -> [[String: Any]] {
        slots.map { label in label.map { ["id": digest($0), "audience_ids": audiences] } ?? [:] }
    }

    func mapping(_ action: String, _ rows: [[[String: Any]]], advertiser: String = "adv1", schema: [String] = TikTokAPITests.schema) -> [String: Any] {
        ["advertiser_ids": [advertiser], "action": action, "id_schema": schema, "batch_data": rows]
    }

    @Test("create and delete an audience; every answer is HTTP 200 with code, message, request_id and data")
    func audienceLifecycle() async throws {
        let sandbox = try SandboxHarness()
        let id = try await sandbox.createTikTokAudience(advertiser: "adv1", name: "Buyers")
        let tooLong = try await sandbox.tiktok("/segment/audience/", ["advertiser_id": "adv1", "action": "create", "custom_audience_name": String(repeating: "n", count: 129)])
        #expect(tooLong.status == 200)
        #expect(tooLong.code == 40002)
        #expect(tooLong.object["request_id"] as? String != nil)
        let deleted = try await sandbox.tiktok("/segment/audience/", ["advertiser_id": "adv1", "action": "delete", "delete_audience_id": id])
        #expect(deleted.code == 0)
        let again = try await sandbox.tiktok("/segment/audience/", ["advertiser_id": "adv1", "action": "delete", "delete_audience_id": id])
        #expect(again.code == 40002)
    }

    @Test("names are not unique: a second create under a name that exists makes a second audience, as TikTok does")
    func duplicateNames() async throws {
        let sandbox = try SandboxHarness()
        let first = try await sandbox.createTikTokAudience(advertiser: "adv1", name: "Buyers")
        let second = try await sandbox.createTikTokAudience(advertiser: "adv1", name: "Buyers")
        #expect(first != second)
        for id in [first, second] {
            let entry = try await sandbox.recorded("tiktok", id).entry
            #expect(entry["name"] as? String == "Buyers", "audience \(id) is listed under its name")
        }
    }

    @Test("custom_audience/get reports cover_num and is_valid (1,000 members or more) per audience; an unknown id or a bad list is 40002")
    func audienceDetails() async throws {
        let sandbox = try SandboxHarness()
        let small = try await sandbox.createTikTokAudience(advertiser: "adv1", name: "Small")
        let big = try await sandbox.createTikTokAudience(advertiser: "adv1", name: "Big")
        let added = try await sandbox.tiktok("/segment/mapping/", mapping("add", (0..<1_000).map { row(["user-\($0)", nil, nil], audiences: [$0 < 3 ? small : big]) } + [row(["extra", nil, nil], audiences: [big])]))
        #expect(added.code == 0)
        func get(_ ids: String) async throws -> SandboxHarness.Answer {
            let query = "advertiser_id=adv1&custom_audience_ids=" + (ids.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ids)
            return try await sandbox.send("GET", "/open_api/v1.3/dmp/custom_audience/get/?" + query, headers: ["Access-Token": "sandbox-tiktok-token"])
        }
        let answer = try await get("[\"\(small)\",\"\(big)\"]")
        #expect(answer.code == 0)
        let details = (answer.data["list"] as? [[String: Any]] ?? []).compactMap { $0["audience_details"] as? [String: Any] }
        #expect(details.count == 2)
        #expect(details.map { $0["audience_id"] as? String } == [small, big])
        #expect(details.map { $0["cover_num"] as? Int } == [3, 998])
        #expect(details.map { $0["is_valid"] as? Bool } == [false, false])
        let more = try await sandbox.tiktok("/segment/mapping/", mapping("add", [row(["more-1", nil, nil], audiences: [big]), row(["more-2", nil, nil], audiences: [big])]))
        #expect(more.code == 0)
        let valid = try await get("[\"\(big)\"]")
        let bigDetails = (valid.data["list"] as? [[String: Any]])?.first?["audience_details"] as? [String: Any]
        #expect(bigDetails?["cover_num"] as? Int == 1_000)
        #expect(bigDetails?["is_valid"] as? Bool == true)
        #expect(try await get("[\"7404\"]").code == 40002)
        #expect(try await get("7404").code == 40002)
        #expect(try await get("[]").code == 40002)
    }

    @Test("a wrong Access-Token is refused with 40105")
    func token() async throws {
        let sandbox = try SandboxHarness()
        let answer = try await sandbox.tiktok("/segment/audience/", ["advertiser_id": "adv1", "action": "create", "custom_audience_name": "x"], token: "stolen")
        #expect(answer.status == 200)
        #expect(answer.code == 40105)
    }

    @Test("mapping add and delete line ids up with id_schema; an absent id is {} in its slot")
    func mappingAlignment() async throws {
        let sandbox = try SandboxHarness()
        let id = try await sandbox.createTikTokAudience(advertiser: "adv1", name: "Mapped")
        let added = try await sandbox.tiktok("/segment/mapping/", mapping("add", [
            row(["ada", "ada-phone", nil], audiences: [id]), row([nil, nil, "bob-idfa"], audiences: [id]), row(["carol", nil, nil], audiences: [id]),
        ]))
        #expect(added.code == 0)
        var recorded = try await sandbox.recorded("tiktok", id)
        #expect(recorded.count == 3)
        #expect(recorded.members.contains(["EMAIL_SHA256=\(digest("ada"))", "PHONE_SHA256=\(digest("ada-phone"))"]))
        let removed = try await sandbox.tiktok("/segment/mapping/", mapping("delete", [row([nil, "ada-phone", nil], audiences: [id])]))
        #expect(removed.code == 0)
        recorded = try await sandbox.recorded("tiktok", id)
        #expect(recorded.members == [["IDFA_SHA256=\(digest("bob-idfa"))"], ["EMAIL_SHA256=\(digest("carol"))"]])
        #expect(recorded.entry["targetable"] as? Bool == false, "under 1,000 members is not targetable")
    }

    @Test("refusals: misaligned rows 40002, over 10,000 users 40061, ids not hashed 40062, unknown audience 40002")
    func refusals() async throws {
        let sandbox = try SandboxHarness()
        let id = try await sandbox.createTikTokAudience(advertiser: "adv1", name: "Refusals")
        let misaligned = try await sandbox.tiktok("/segment/mapping/", mapping("add", [[["id": digest("a"), "audience_ids": [id]]]]))
        #expect(misaligned.code == 40002)
        let tooMany = (0...10_000).map { row(["u\($0)", nil, nil], audiences: [id]) }
        #expect(try await sandbox.tiktok("/segment/mapping/", mapping("add", tooMany)).code == 40061)
        #expect(try await sandbox.tiktok("/segment/mapping/", mapping("add", Array(tooMany.prefix(10_000)))).code == 0)
        let raw = [[["id": "ada@example.com", "audience_ids": [id]] as [String: Any], [:], [:]]]
        #expect(try await sandbox.tiktok("/segment/mapping/", mapping("add", raw)).code == 40062)
        #expect(try await sandbox.tiktok("/segment/mapping/", mapping("add", [row(["a", nil, nil], audiences: ["999"])])).code == 40002)
        let recorded = try await sandbox.recorded("tiktok", id)
        #expect(recorded.count == 10_000)
        #expect(recorded.entry["targetable"] as? Bool == true)
    }

    @Test("a row whose id is not a digest is refused alone: code 20001 with failed_rows, the other rows taken")
    func partialSuccess() async throws {
        let sandbox = try SandboxHarness()
        let id = try await sandbox.createTikTokAudience(advertiser: "adv1", name: "Partial")
        let rows: [[[String: Any]]] = [
            row(["ada", nil, nil], audiences: [id]), [["id": "bob@example.com", "audience_ids": [id]] as [String: Any], [:], [:]], row(["carol", nil, nil], audiences: [id]),
        ]
        let answer = try await sandbox.tiktok("/segment/mapping/", mapping("add", rows))
        #expect(answer.code == 20001)
        let failed = try #require(answer.data["failed_rows"] as? [[String: Any]])
        #expect(failed.count == 1)
        #expect(failed.first?["row_index"] as? Int == 1)
        #expect(failed.first?["code"] as? Int == 40062)
        #expect(try await sandbox.recorded("tiktok", id).members == [["EMAIL_SHA256=\(digest("ada"))"], ["EMAIL_SHA256=\(digest("carol"))"]])
    }

    @Test("past the request budget the answer is code 40100")
    func rateLimit() async throws {
        // A day-long window: windows start on multiples of their length, and a minute one could roll over mid-test.
        let sandbox = try SandboxHarness(["--tiktok-rate-limit", "2", "--rate-window-seconds", "86400"])
        _ = try await sandbox.createTikTokAudience(advertiser: "adv1", name: "a")
        _ = try await sandbox.createTikTokAudience(advertiser: "adv1", name: "b")
        let limited = try await sandbox.tiktok("/segment/audience/", ["advertiser_id": "adv1", "action": "create", "custom_audience_name": "c"])
        #expect(limited.status == 200)
        #expect(limited.code == 40100)
    }
}
