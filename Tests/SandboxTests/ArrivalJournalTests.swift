import Foundation
@testable import Sandbox
import Testing

@Suite("Sandbox: the arrival journal behind make bench-latency")
struct ArrivalJournalTests {
    @Test("off by default: GET /_sandbox/arrivals says how to turn it on")
    func offByDefault() async throws {
        let sandbox = try SandboxHarness()
        let answer = try await sandbox.send("GET", "/_sandbox/arrivals")
        #expect(answer.status == 404)
        #expect((answer.object["error"] as? String)?.contains("--arrival-journal") == true)
    }

    @Test("records each user an add brought in, once, by destination, audience and first identifier, at the sandbox's clock")
    func recordsArrivals() async throws {
        let sandbox = try SandboxHarness(["--arrival-journal", "100"])
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let x = try await sandbox.createXAudience(account: "acc", name: "Journal")
        let xAdd = try await sandbox.x("POST", "/12/accounts/acc/custom_audiences/\(x)/users", body: [
            xOperation("Update", [["email": ["ada"]], ["email": ["bob"]]]),
            xOperation("Update", [["email": ["ada"]]]),
            xOperation("Delete", [["email": ["bob"]]]),
        ])
        #expect(xAdd.status == 200)
        let tiktok = try await sandbox.createTikTokAudience(advertiser: "adv", name: "Journal")
        let tiktokAdd = try await sandbox.tiktok("/segment/mapping/", [
            "advertiser_ids": ["adv"], "action": "add", "id_schema": ["EMAIL_SHA256"],
            "batch_data": [[["id": digest("carol"), "audience_ids": [tiktok]]]],
        ])
        #expect(tiktokAdd.code == 0)
        let after = Int64(Date().timeIntervalSince1970 * 1000)

        let answer = try await sandbox.send("GET", "/_sandbox/arrivals")
        #expect(answer.status == 200)
        let entries = try #require(answer.object["arrivals"] as? [[Any]])
        // ada and bob into X (ada's second add and bob's removal are not arrivals), carol into TikTok.
        #expect(entries.count == 3)
        #expect(answer.object["next"] as? Int == 3)
        #expect(answer.object["recorded"] as? Int == 3)
        #expect(answer.object["left_out"] as? Int == 0)
        let described = entries.map { entry in
            "\(entry[1])/\(entry[2])/\(entry[3])/\(entry[4])"
        }
        #expect(described == [
            "x/\(x)/email/\(digest("ada"))", "x/\(x)/email/\(digest("bob"))", "tiktok/\(tiktok)/EMAIL_SHA256/\(digest("carol"))",
        ])
        for entry in entries {
            let at = try #require((entry[0] as? NSNumber)?.int64Value)
            #expect(at >= before && at <= after, "arrival time \(at) lies within the requests")
        }

        let rest = try await sandbox.send("GET", "/_sandbox/arrivals?from=2&limit=5")
        #expect((rest.object["arrivals"] as? [[Any]])?.count == 1)
        #expect(rest.object["next"] as? Int == 3)
        let count = try await sandbox.send("GET", "/_sandbox/arrivals?limit=0")
        #expect((count.object["arrivals"] as? [[Any]])?.count == 0)
        #expect(count.object["recorded"] as? Int == 3)
        let refused = try await sandbox.send("GET", "/_sandbox/arrivals?from=-1")
        #expect(refused.status == 400)
    }

    @Test("a full journal records nothing more and counts what it left out")
    func bounded() async throws {
        let sandbox = try SandboxHarness(["--arrival-journal", "2"])
        let x = try await sandbox.createXAudience(account: "acc", name: "Full")
        let added = try await sandbox.x("POST", "/12/accounts/acc/custom_audiences/\(x)/users", body: [
            xOperation("Update", [["email": ["a"]], ["email": ["b"]], ["email": ["c"]], ["email": ["d"]], ["email": ["e"]]])
        ])
        #expect(added.status == 200)
        let answer = try await sandbox.send("GET", "/_sandbox/arrivals")
        #expect((answer.object["arrivals"] as? [[Any]])?.count == 2)
        #expect(answer.object["left_out"] as? Int == 3)
        let reset = try await sandbox.send("POST", "/_sandbox/reset")
        #expect(reset.status == 200)
        let empty = try await sandbox.send("GET", "/_sandbox/arrivals")
        #expect(empty.object["recorded"] as? Int == 0)
        #expect(empty.object["left_out"] as? Int == 0)
    }
}
