import Synchronization
import Foundation
@testable import Sandbox
import Testing

@Suite("Sandbox: fault injection and its own endpoints")
struct FaultInjectionTests {
    @Test("fault plans that would crash or wrap are refused, naming the field", arguments: [
        (#"{"x":{"errors":{"-1":1}}}"#, "x.errors.-1 is not an HTTP error status: use 400 to 599"),
        (#"{"x":{"errors":{"101":1}}}"#, "x.errors.101 is not an HTTP error status"),
        (#"{"tiktok":{"errors":{"0":1}}}"#, "tiktok.errors.0 is not a business code"),
        (#"{"x":{"latency_ms":1e19}}"#, "x.latency_ms must be a whole number from 0 to 60000"),
        (#"{"x":{"latency_ms":18446744073709551615}}"#, "x.latency_ms must be a whole number"),
        (#"{"x":{"latency_ms":60001}}"#, "x.latency_ms must be a whole number"),
        (#"{"x":{"rate_limit_burst":1e300}}"#, "x.rate_limit_burst must be a whole number"),
    ])
    func refusedPlans(_ body: String, _ message: String) async throws {
        let sandbox = try SandboxHarness()
        let answer = try await sandbox.send("POST", "/_sandbox/faults", rawBody: Data(body.utf8))
        #expect(answer.status == 400)
        let text = String(describing: answer.json ?? "")
        #expect(text.contains(message), "\(text)")
        // The sandbox still serves, with its faults unchanged.
        #expect(try await sandbox.x("GET", "/12/accounts/a/custom_audiences").status == 200)
    }

    @Test("a 429 burst answers the next N X requests with TOO_MANY_REQUESTS, then recovers")
    func burst() async throws {
        let sandbox = try SandboxHarness()
        let set = try await sandbox.send("POST", "/_sandbox/faults", body: ["x": ["rate_limit_burst": 2]])
        #expect(set.status == 200)
        #expect(try await sandbox.x("GET", "/12/accounts/a/custom_audiences").status == 429)
        #expect(try await sandbox.x("GET", "/12/accounts/a/custom_audiences").status == 429)
        #expect(try await sandbox.x("GET", "/12/accounts/a/custom_audiences").status == 200)
    }

    @Test("error rates by status (X) and by code (TikTok), token revocation, latency and dropped connections")
    func faultKinds() async throws {
        let sandbox = try SandboxHarness()
        _ = try await sandbox.send("POST", "/_sandbox/faults", body: ["x": ["errors": ["503": 1.0]], "tiktok": ["errors": ["50000": 1.0]]])
        let overCapacity = try await sandbox.x("GET", "/12/accounts/a/custom_audiences")
        #expect(overCapacity.status == 503)
        #expect(overCapacity.errorCode == "OVER_CAPACITY")
        #expect(try await sandbox.tiktok("/segment/audience/", ["advertiser_id": "a", "action": "create", "custom_audience_name": "n"]).code == 50000)

        _ = try await sandbox.send("POST", "/_sandbox/faults", body: ["x": ["token_revoked": true], "tiktok": ["token_revoked": true]])
        #expect(try await sandbox.x("GET", "/12/accounts/a/custom_audiences").status == 401)
        #expect(try await sandbox.tiktok("/segment/audience/", ["advertiser_id": "a", "action": "create", "custom_audience_name": "n"]).code == 40105)

        _ = try await sandbox.send("POST", "/_sandbox/faults", body: ["x": ["latency_ms": 300], "tiktok": [:] as [String: Any]])
        let started = ContinuousClock.now
        #expect(try await sandbox.x("GET", "/12/accounts/a/custom_audiences").status == 200)
        #expect(ContinuousClock.now - started >= .milliseconds(300))

        _ = try await sandbox.send("POST", "/_sandbox/faults", body: ["x": ["drop_rate": 1.0]])
        await #expect(throws: (any Error).self) { _ = try await sandbox.x("GET", "/12/accounts/a/custom_audiences") }

        // A lost answer: the create is made, the client hears nothing; the list shows what it made.
        _ = try await sandbox.send("POST", "/_sandbox/faults", body: ["tiktok": ["lost_answer_rate": 1.0]])
        await #expect(throws: (any Error).self) {
            _ = try await sandbox.tiktok("/segment/audience/", ["advertiser_id": "lost", "action": "create", "custom_audience_name": "made"])
        }
        _ = try await sandbox.send("POST", "/_sandbox/faults", body: ["tiktok": [:] as [String: Any]])
        let listed = try await sandbox.send("GET", "/open_api/v1.3/dmp/custom_audience/list/?advertiser_id=lost&page=1&page_size=100", headers: ["Access-Token": "sandbox-tiktok-token"])
        let data = try #require(listed.object["data"] as? [String: Any])
        let list = try #require(data["list"] as? [[String: Any]])
        #expect(list.map { $0["name"] as? String } == ["made"])
        #expect((list.first?["create_time"] as? String)?.count == 19, "yyyy-MM-dd HH:mm:ss")
        #expect((data["page_info"] as? [String: Any])?["total_page"] as? Int == 1)

        let reset = try await sandbox.send("POST", "/_sandbox/reset")
        #expect(reset.status == 200)
        #expect(try await sandbox.x("GET", "/12/accounts/a/custom_audiences").status == 200)
    }

    @Test("a malformed fault plan is refused with a message naming the field")
    func invalidPlan() async throws {
        let sandbox = try SandboxHarness()
        let answer = try await sandbox.send("POST", "/_sandbox/faults", body: ["x": ["errors": ["503": 2]]])
        #expect(answer.status == 400)
        #expect((answer.object["error"] as? String)?.contains("x.errors.503") == true)
        let unknown = try await sandbox.send("POST", "/_sandbox/faults", body: ["x": ["slowness": 1]])
        #expect((unknown.object["error"] as? String)?.contains("x.slowness") == true)
    }

    @Test("latency_jitter_ms adds up to that much to latency_ms, drawn per answer")
    func latencyJitter() throws {
        let sequence = [0.0, 0.5, 0.999_999]
        let counter = SequenceIndex()
        let plan = try FaultPlan(json: ["latency_ms": 100, "latency_jitter_ms": 400], api: .x)
        let injector = FaultInjector(plans: [.x: plan]) { sequence[counter.next() % sequence.count] }
        #expect((0..<3).map { _ in injector.decide(for: .x).latencyMilliseconds } == [100, 300, 500])
        #expect(throws: SandboxRequestError.self) { try FaultPlan(json: ["latency_jitter_ms": 60_001], api: .tiktok) }
    }

    @Test("random faults follow the configured probability")
    func probability() {
        let sequence = [0.05, 0.5, 0.09, 0.95]
        let counter = SequenceIndex()
        let injector = FaultInjector(plans: [.x: try! FaultPlan(json: ["errors": ["500": 0.1]], api: .x)]) { sequence[counter.next() % sequence.count] }
        let faults = (0..<4).map { _ in injector.decide(for: .x).fault }
        #expect(faults == [.error(500), nil, .error(500), nil])
    }

    @Test("reset forgets audiences and faults")
    func reset() async throws {
        let sandbox = try SandboxHarness()
        _ = try await sandbox.createXAudience(account: "a", name: "n")
        _ = try await sandbox.send("POST", "/_sandbox/faults", body: ["tiktok": ["latency_ms": 5]])
        _ = try await sandbox.send("POST", "/_sandbox/reset")
        let audiences = try await sandbox.send("GET", "/_sandbox/audiences")
        #expect((audiences.object["audiences"] as? [Any])?.isEmpty == true)
        let faults = try await sandbox.send("GET", "/_sandbox/faults")
        #expect((faults.object["tiktok"] as? [String: Any])?["latency_ms"] as? Int == 0)
    }
}

/// A thread-safe counter for the fixed random sequence.
final class SequenceIndex: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock { current in
            defer { current += 1 }
            return current
        }
    }
}
