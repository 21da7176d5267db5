@testable import Destinations
import HTTPClient
import Synchronization
import Testing
import Wire

@Suite("TikTok client: mapping rows aligned to id_schema, and every code")
struct TikTokClientTests {
    func client(_ transport: ScriptedTransport) -> TikTokClient {
        TikTokClient(settings: .init(baseURL: "http://sandbox/open_api/v1.3", advertiser: "adv1"), transport: transport) { "token-1" }
    }

    static func id(_ type: IdentifierType, _ byte: UInt8) -> HashedIdentifier { HashedIdentifier(type: type, sha256: Array(repeating: byte, count: 32)) }
    static func hex(_ byte: UInt8) -> String { String(repeating: String(format: "%02x", byte), count: 32) }

    static let users = [
        BatchUser(userKey: "u1", identifiers: [id(.email, 1), id(.gaid, 2)]),
        BatchUser(userKey: "u2", identifiers: [id(.phone, 3), id(.email, 4), id(.email, 5)]),
        BatchUser(userKey: "u3", identifiers: [id(.xHandle, 6)]),
    ]

    @Test("a code that is no whole number is no answer: never read as code 0, success", arguments: [0.5, -0.25, 1e300])
    func fractionalCode(_ code: Double) async throws {
        let transport = ScriptedTransport([ScriptedTransport.json(200, ["code": code, "message": "OK", "data": [:]])])
        let outcome = try await client(transport).upload(.add, users: Array(Self.users.prefix(2)), audience: "77")
        guard case .retriable(let failure, nil) = outcome else { Issue.record("expected retriable, got \(outcome)"); return }
        #expect(failure.code == "INVALID_RESPONSE")
    }

    @Test("rows line up with id_schema ({} for an absent id), a second email takes a second row, a user with no TikTok id is refused unsent")
    func mappingBody() async throws {
        let transport = ScriptedTransport([ScriptedTransport.json(200, ["code": 0, "message": "OK", "data": [:]])])
        let outcome = try await client(transport).upload(.add, users: Self.users, audience: "77")
        guard case .partial(let accepted, let refused) = outcome else { Issue.record("expected partial, got \(outcome)"); return }
        #expect(accepted == 2)
        #expect(refused.map(\.index) == [2])
        #expect(refused.first?.code == "NO_TIKTOK_IDENTIFIER")
        let request = try #require(transport.requests.first)
        #expect(request.url == "http://sandbox/open_api/v1.3/segment/mapping/")
        #expect(request.headers.contains { $0.name == "Access-Token" && $0.value == "token-1" })
        let body = try #require(request.json as? [String: Any])
        #expect(body["advertiser_ids"] as? [String] == ["adv1"])
        #expect(body["action"] as? String == "add")
        #expect(body["id_schema"] as? [String] == ["EMAIL_SHA256", "PHONE_SHA256", "AAID_SHA256"])
        let rows = try #require(body["batch_data"] as? [[[String: Any]]])
        #expect(rows.count == 3)
        let cell = { (row: Int, slot: Int) in rows[row][slot]["id"] as? String }
        #expect([cell(0, 0), cell(0, 1), cell(0, 2)] == [Self.hex(1), nil, Self.hex(2)])
        #expect([cell(1, 0), cell(1, 1), cell(1, 2)] == [Self.hex(4), Self.hex(3), nil])
        #expect([cell(2, 0), cell(2, 1), cell(2, 2)] == [Self.hex(5), nil, nil])
        #expect(rows[0][0]["audience_ids"] as? [String] == ["77"])
        #expect(rows[0][1].isEmpty)
    }

    @Test("20001 with failed_rows refuses the users of those rows, each once")
    func partialSuccess() async throws {
        let transport = ScriptedTransport([ScriptedTransport.json(200, [
            "code": 20001, "message": "partial", "data": ["failed_rows": [["row_index": 1, "code": 40062, "message": "m"], ["row_index": 2, "code": 40062, "message": "m"]]],
        ])])
        let outcome = try await client(transport).upload(.remove, users: Array(Self.users.prefix(2)), audience: "77")
        guard case .partial(let accepted, let refused) = outcome else { Issue.record("expected partial, got \(outcome)"); return }
        #expect(accepted == 1)
        #expect(refused == [RefusedItem(index: 1, code: "40062", message: "m")])
        #expect((transport.requests.first?.json as? [String: Any])?["action"] as? String == "delete")
    }

    @Test("codes: 40100 and 50000 retriable, 40102 and 40105 pause, 40002 permanent, 20001 without rows retriable, HTTP 502 retriable")
    func codes() async throws {
        let answer = { (code: Int) in ScriptedTransport.json(200, ["code": code, "message": "m", "data": [:]]) }
        let transport = ScriptedTransport([
            answer(40100), answer(50000), answer(40102), answer(40105), answer(40002), answer(20001), ScriptedTransport.json(502, [:]),
        ])
        let client = client(transport)
        var kinds: [String] = []
        for _ in 0..<7 {
            switch try await client.upload(.add, users: Array(Self.users.prefix(1)), audience: "77") {
            case .retriable(let failure, _): kinds.append("retriable:\(failure.code)")
            case .credentialRevoked(let failure): kinds.append("revoked:\(failure.code)")
            case .permanent(let failure): kinds.append("permanent:\(failure.code)")
            case .done, .partial: kinds.append("success")
            }
        }
        #expect(kinds == ["retriable:40100", "retriable:50000", "revoked:40102", "revoked:40105", "permanent:40002", "retriable:20001", "retriable:HTTP_502"])
    }

    @Test("create sends the name escaped and returns data.audience_id")
    func create() async throws {
        let transport = ScriptedTransport([ScriptedTransport.json(200, ["code": 0, "message": "OK", "data": ["audience_id": 123456]])])
        let outcome = try await client(transport).createAudience(named: "Buyers \"VIP\"", tag: "cohortsync:c/a/")
        guard case .done(let id) = outcome else { Issue.record("expected done, got \(outcome)"); return }
        #expect(id == "123456")
        let body = try #require(transport.requests.first?.json as? [String: Any])
        #expect(body["custom_audience_name"] as? String == "Buyers \"VIP\"")
        #expect(body["action"] as? String == "create")
    }
}

extension TikTokClientTests {
    @Test("findCreated pages the audience list and takes the one of that name made since the intent, skipping older ones and audiences mapped elsewhere")
    func findCreated() async throws {
        let since = try #require(TikTokClient.unixMilliseconds("2026-11-25 10:00:00"))
        #expect(since == 1_795_600_800_000)
        let page = { (page: Int, list: [[String: Any]], total: Int) in
            ScriptedTransport.json(200, ["code": 0, "message": "OK", "data": ["list": list, "page_info": ["page": page, "total_page": total]]])
        }
        let transport = ScriptedTransport([
            page(1, [
                ["audience_id": "7old", "name": "Buyers", "create_time": "2026-11-25 09:58:59"],
                ["audience_id": "7other", "name": "Sellers", "create_time": "2026-11-25 10:00:05"],
            ], 2),
            page(2, [
                ["audience_id": "7mapped", "name": "Buyers", "create_time": "2026-11-25 10:00:01"],
                ["audience_id": 7_000_123, "name": "Buyers", "create_time": "2026-11-25 09:59:30"],
            ], 2),
        ])
        let outcome = try await client(transport).findCreated(named: "Buyers", tag: "cohortsync:c/a/", since: since, excluding: ["7mapped"])
        #expect(outcome.value == .some("7000123"), "within the clock-skew margin")
        #expect(transport.requests.map(\.method) == ["GET", "GET"])
        #expect(transport.requests.map(\.url) == (1...2).map { "http://sandbox/open_api/v1.3/dmp/custom_audience/list/?advertiser_id=adv1&page=\($0)&page_size=100" })

        let none = ScriptedTransport([page(1, [["audience_id": "7old", "name": "Buyers", "create_time": "2026-11-25 09:00:00"]], 1)])
        #expect(try await client(none).findCreated(named: "Buyers", tag: "t", since: since, excluding: []).value == .some(nil))
        #expect(none.requests.count == 1, "page_info said one page: no second is asked for")
    }

    @Test("reported size: cover_num and is_valid of the audience's audience_details; an answer without them is in doubt, never a size")
    func reportedSize() async throws {
        let details = { (id: Any, covered: Int, valid: Bool) in
            ScriptedTransport.json(200, ["code": 0, "message": "OK", "data": ["list": [["audience_details": ["audience_id": id, "cover_num": covered, "is_valid": valid]]]]])
        }
        let transport = ScriptedTransport([
            details("7001", 1_234, true), details(7_002, 20, false), details("7999", 5, true),
            ScriptedTransport.json(200, ["code": 40105, "message": "revoked", "data": [String: Any]()]),
        ])
        let sizes = self.client(transport)
        #expect(try await sizes.reportedSize(of: "7001").value == ReportedAudienceSize(size: 1_234, targetable: true))
        #expect(try await sizes.reportedSize(of: "7002").value == ReportedAudienceSize(size: 20, targetable: false, reasons: ["NOT_VALID"]))
        let other = try await sizes.reportedSize(of: "7003")
        guard case .retriable(let failure, _) = other else { Issue.record("another audience's details must not pass for this one's: \(other)"); return }
        #expect(failure.code == "INVALID_RESPONSE")
        let revoked = try await sizes.reportedSize(of: "7004")
        guard case .credentialRevoked = revoked else { Issue.record("expected credentialRevoked, got \(revoked)"); return }
        #expect(transport.requests.first?.method == "GET")
        #expect(transport.requests.first?.url == "http://sandbox/open_api/v1.3/dmp/custom_audience/get/?advertiser_id=adv1&custom_audience_ids=%5B%227001%22%5D")
    }

    @Test("findCreated never answers none when in doubt: two candidates, a same-named entry without a readable time, an answer without its list, a rate limit")
    func findCreatedInDoubt() async throws {
        let since = try #require(TikTokClient.unixMilliseconds("2026-11-25 10:00:00"))
        let answer = { (data: [String: Any]) in ScriptedTransport.json(200, ["code": 0, "message": "OK", "data": data]) }
        let pageInfo = ["page": 1, "total_page": 1]
        let cases: [(ScriptedTransport.Step, String)] = [
            (answer(["list": [["audience_id": "7a", "name": "Buyers", "create_time": "2026-11-25 10:00:01"],
                              ["audience_id": "7b", "name": "Buyers", "create_time": "2026-11-25 10:00:02"]], "page_info": pageInfo]), "AMBIGUOUS_AUDIENCE"),
            (answer(["list": [["audience_id": "7a", "name": "Buyers", "create_time": "yesterday"]], "page_info": pageInfo]), "INVALID_RESPONSE"),
            (answer(["page_info": pageInfo]), "INVALID_RESPONSE"),
            (answer(["list": [] as [Any]]), "INVALID_RESPONSE"),
            (ScriptedTransport.json(200, ["code": 40100, "message": "slow down", "data": [:]]), "40100"),
        ]
        for (step, code) in cases {
            let outcome = try await client(ScriptedTransport([step])).findCreated(named: "Buyers", tag: "t", since: since, excluding: [])
            guard case .retriable(let failure, _) = outcome else {
                Issue.record("expected retriable \(code), got \(outcome)")
                continue
            }
            #expect(failure.code == code)
        }
    }
}

@Suite("Audience names")
struct AudienceNameTests {
    @Test("X's forbidden characters stripped, the identifier suffix kept whole, the base cut to the limit")
    func names() {
        #expect(AudienceName.make(upstream: "Buyers: EU/UK & friends?", scope: .unspecified, limit: 255) == "Buyers EUUK  friends")
        #expect(AudienceName.make(upstream: "Buyers", scope: .email, limit: 128) == "Buyers (email)")
        let long = AudienceName.make(upstream: String(repeating: "a", count: 300), scope: .phone, limit: 128)
        #expect(long.count == 128)
        #expect(long.hasSuffix("a (phone)"))
        #expect(AudienceName.make(upstream: "@@@", scope: .unspecified, limit: 128) == "audience")
    }
}

@Suite("Retry backoff and the client-side rate limiter")
struct RetryAndRateLimitTests {
    @Test("the ceiling doubles from the base up to the cap; every delay lies between zero and it")
    func backoff() {
        let backoff = RetryBackoff(base: .milliseconds(100), cap: .seconds(1))
        #expect((1...6).map { backoff.ceiling(afterAttempt: $0) } == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        var generator = SystemRandomNumberGenerator()
        let delays = (0..<1_000).map { _ in backoff.delay(afterAttempt: 3, using: &generator) }
        #expect(delays.count == 1_000)
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .milliseconds(400) })
        #expect(delays.contains { $0 < .milliseconds(100) } && delays.contains { $0 > .milliseconds(300) }, "full jitter spreads over the whole range")
    }

    @Test("the server's time wins: Retry-After seconds, or x-rate-limit-reset on a 429; absurd values are capped, never trap")
    func serverDelay() {
        #expect(RetryBackoff.serverDelay(IncomingResponse(status: 503, headers: ["retry-after": "1e20"])) == RequestRateLimiter.maximumHold)
        #expect(RetryBackoff.serverDelay(IncomingResponse(status: 503, headers: ["retry-after": "inf"])) == nil)
        #expect(RetryBackoff.serverDelay(IncomingResponse(status: 503, headers: ["retry-after": "-1"])) == nil, "a negative delay is no delay named")
        #expect(RetryBackoff.serverDelay(IncomingResponse(status: 429, headers: ["x-rate-limit-reset": "-5"]), now: 1000) == .zero)
        #expect(RetryBackoff.serverDelay(IncomingResponse(status: 503, headers: ["retry-after": "3"])) == .seconds(3))
        #expect(RetryBackoff.serverDelay(IncomingResponse(status: 429, headers: ["x-rate-limit-reset": "1010"]), now: 1000) == .seconds(10))
        #expect(RetryBackoff.serverDelay(IncomingResponse(status: 200, headers: ["x-rate-limit-reset": "1010"]), now: 1000) == nil)
    }

    @Test("requests are paced one interval apart: the first at once, then one per interval, never a window over the budget")
    func pacing() async throws {
        let budget = RequestRateLimiter.Budget(requests: 5, window: .milliseconds(500), margin: .zero)
        #expect(budget.interval == .milliseconds(100))
        let limiter = RequestRateLimiter(budget: budget)
        let clock = ContinuousClock()
        let start = clock.now
        var sent: [ContinuousClock.Instant] = []
        for _ in 0..<11 {
            try await limiter.acquire()
            sent.append(clock.now)
        }
        #expect(sent.count == 11)
        #expect(sent[0] - start < .milliseconds(50), "the first request goes at once")
        #expect(sent[10] - start >= .seconds(1), "eleven requests take ten intervals")
        // A send never comes before its slot, so the first window holds at most the budget.
        #expect(sent.filter { $0 - start < .milliseconds(500) }.count <= 5)
    }

    @Test("a hold that begins while a request waits for its slot is waited out too")
    func holdWhileWaiting() async throws {
        // The waiting request's slot is 6 s away; the hold begins before it (checked) and ends 7 s from then. A
        // machine that stalls this test past the slot makes the attempt say nothing: it is made again, three
        // times at most.
        for _ in 0..<3 {
            let limiter = RequestRateLimiter(budget: .init(requests: 1, window: .seconds(6), margin: .zero))
            try await limiter.acquire()
            let went = Atomic(false)
            let waiting = Task {
                try await limiter.acquire()
                went.store(true, ordering: .releasing)
            }
            try await Task.sleep(for: .milliseconds(50))
            let held = ContinuousClock.now
            limiter.hold(for: .seconds(7))
            guard !went.load(ordering: .acquiring) else {
                waiting.cancel()
                continue
            }
            try await waiting.value
            #expect(ContinuousClock.now - held >= .seconds(7))
            return
        }
        Issue.record("each of three attempts was stalled past the waiting request's slot before the hold began")
    }

    @Test("a spent window (x-rate-limit-remaining 0) holds requests until its reset")
    func holdsUntilReset() async throws {
        let limiter = RequestRateLimiter(budget: .init(requests: 100))
        limiter.observe(IncomingResponse(status: 200, headers: ["x-rate-limit-remaining": "0", "x-rate-limit-reset": "1001"]), now: 1000.5)
        let start = ContinuousClock.now
        try await limiter.acquire()
        #expect(ContinuousClock.now - start >= .milliseconds(450))
    }
}
