import Destinations
import Foundation
import HTTPClient
import Testing
import Wire

@Suite("X Ads client: request bodies and every kind of answer")
struct XAdsClientTests {
    static let credentials = OAuth1.Credentials(consumerKey: "ck", consumerSecret: "cs", token: "t", tokenSecret: "ts")

    func client(_ transport: ScriptedTransport) -> XAdsClient {
        XAdsClient(settings: .init(baseURL: "http://sandbox:8089/12/", account: "acc1"), transport: transport) { Self.credentials }
    }

    static let users = [
        BatchUser(userKey: "u1", identifiers: [
            HashedIdentifier(type: .email, sha256: Array(repeating: 0xAB, count: 32)), HashedIdentifier(type: .gaid, sha256: Array(repeating: 0x01, count: 32)),
            HashedIdentifier(type: .idfa, sha256: Array(repeating: 0x02, count: 32)),
        ]),
        BatchUser(userKey: "u2", identifiers: [HashedIdentifier(type: .xHandle, sha256: Array(repeating: 0xFF, count: 32))]),
    ]

    @Test("users: one operation per user, identifiers grouped under X's keys as lowercase hex, signed, JSON")
    func usersBody() async throws {
        let transport = ScriptedTransport([ScriptedTransport.json(200, ["data": ["success_count": 2, "total_count": 2], "operation_errors": []])])
        let outcome = try await client(transport).upload(.remove, users: Self.users, audience: "a1")
        guard case .done(let accepted) = outcome else { Issue.record("expected done, got \(outcome)"); return }
        #expect(accepted == 2)
        let request = try #require(transport.requests.first)
        #expect(request.method == "POST")
        #expect(request.url == "http://sandbox:8089/12/accounts/acc1/custom_audiences/a1/users")
        let operations = try #require(request.json as? [[String: Any]])
        #expect(operations.count == 2)
        #expect(operations.allSatisfy { $0["operation_type"] as? String == "Delete" })
        let first = try #require(((operations[0]["params"] as? [String: Any])?["users"] as? [[String: [String]]])?.first)
        #expect(first["email"] == [String(repeating: "ab", count: 32)])
        #expect(first["device_id"] == [String(repeating: "01", count: 32), String(repeating: "02", count: 32)])
        let second = try #require(((operations[1]["params"] as? [String: Any])?["users"] as? [[String: [String]]])?.first)
        #expect(second == ["handle": [String(repeating: "ff", count: 32)]])
        let authorization = try #require(request.headers.first { $0.name == "Authorization" }?.value)
        #expect(OAuth1.parseAuthorizationHeader(authorization)?["oauth_consumer_key"] == "ck")
    }

    @Test("the users body byte for byte: keys in X's order whatever the identifiers' order, values in theirs, every hex digit, Delete for removals")
    func usersBodyBytes() async throws {
        let every = (0..<32).map { UInt8($0 * 8 + 7) }
        let users = [
            BatchUser(userKey: "u1", identifiers: [
                HashedIdentifier(type: .xID, sha256: Array(repeating: 0x10, count: 32)), HashedIdentifier(type: .phone, sha256: every),
                HashedIdentifier(type: .androidID, sha256: Array(repeating: 0x9A, count: 32)), HashedIdentifier(type: .email, sha256: Array(repeating: 0xF0, count: 32)),
                HashedIdentifier(type: .unspecified, sha256: Array(repeating: 0x33, count: 32)), HashedIdentifier(type: .idfa, sha256: Array(repeating: 0x0F, count: 32)),
            ]),
            BatchUser(userKey: "u2", identifiers: []),
            BatchUser(userKey: "u3", identifiers: [HashedIdentifier(type: .xHandle, sha256: Array(repeating: 0xC5, count: 32))]),
            BatchUser(userKey: "u4", identifiers: [HashedIdentifier(type: .unspecified, sha256: Array(repeating: 0x44, count: 32))]),
            BatchUser(userKey: "u5", identifiers: [
                HashedIdentifier(type: .email, sha256: Array(repeating: 0x55, count: 32)), HashedIdentifier(type: .email, sha256: Array(repeating: 0x66, count: 32)),
            ]),
        ]
        let transport = ScriptedTransport([
            ScriptedTransport.json(200, ["data": ["success_count": 5, "total_count": 5], "operation_errors": []]),
            ScriptedTransport.json(200, ["data": ["success_count": 1, "total_count": 1], "operation_errors": []]),
        ])
        _ = try await client(transport).upload(.add, users: users, audience: "a1")
        _ = try await client(transport).upload(.remove, users: [users[4]], audience: "a1")
        #expect(transport.requests.count == 2)
        let body = String(decoding: try #require(transport.requests.first).body, as: UTF8.self)
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        let repeated = { (byte: String) in String(repeating: byte, count: 32) }
        let expected = "["
            + #"{"operation_type":"Update","params":{"users":[{"email":[""# + repeated("f0") + #""],"phone_number":[""# + hex(every)
            + #""],"device_id":[""# + repeated("9a") + #"",""# + repeated("0f") + #""],"twitter_id":[""# + repeated("10") + #""]}]}},"#
            + #"{"operation_type":"Update","params":{"users":[{}]}},"#
            + #"{"operation_type":"Update","params":{"users":[{"handle":[""# + repeated("c5") + #""]}]}},"#
            + #"{"operation_type":"Update","params":{"users":[{}]}},"#
            + #"{"operation_type":"Update","params":{"users":[{"email":[""# + repeated("55") + #"",""# + repeated("66") + #""]}]}}"#
            + "]"
        #expect(body == expected)
        let removal = String(decoding: transport.requests[1].body, as: UTF8.self)
        #expect(removal == #"[{"operation_type":"Delete","params":{"users":[{"email":[""# + repeated("55") + #"",""# + repeated("66") + #""]}]}}]"#)
        #expect(hex(every).count == 64 && Set(hex(every)) == Set("0123456789abcdef"))
    }

    @Test("operation_errors name the refused users by index; the rest count as taken")
    func partial() async throws {
        let transport = ScriptedTransport([ScriptedTransport.json(200, [
            "data": ["success_count": 1, "total_count": 2], "operation_errors": [["index": 1, "code": "INVALID_USER_DATA", "message": "bad"]],
        ])])
        let outcome = try await client(transport).upload(.add, users: Self.users, audience: "a1")
        guard case .partial(let accepted, let refused) = outcome else { Issue.record("expected partial, got \(outcome)"); return }
        #expect(accepted == 1)
        #expect(refused == [RefusedItem(index: 1, code: "INVALID_USER_DATA", message: "bad")])
        #expect((transport.requests.first?.json as? [[String: Any]])?.first?["operation_type"] as? String == "Update")
    }

    @Test("counts that do not add up are retriable, never taken as success")
    func incomplete() async throws {
        let transport = ScriptedTransport([ScriptedTransport.json(200, ["data": ["success_count": 1, "total_count": 2], "operation_errors": []])])
        let outcome = try await client(transport).upload(.add, users: Self.users, audience: "a1")
        guard case .retriable(let failure, nil) = outcome else { Issue.record("expected retriable, got \(outcome)"); return }
        #expect(failure.code == "INCOMPLETE")
    }

    @Test("counts that could not be real, and an index named twice, are retriable: nobody is lost, nothing overflows", arguments: [
        (Int64.max, 2, [0]), (-1, 2, [0, 0, 1]), (-1, 2, [0, 0]), (0, 2, [0, 0]), (3, 2, []), (Int64.min, 2, [0, 1]), (2, Int64.max, []),
        (1, 2, [5]), (1, 2, [-1]),
    ] as [(Int64, Int64, [Int])])
    func impossibleCounts(_ succeeded: Int64, _ total: Int64, _ errorIndices: [Int]) async throws {
        let errors = errorIndices.map { ["index": $0, "code": "E", "message": "m"] as [String: Any] }
        let transport = ScriptedTransport([ScriptedTransport.json(200, [
            "data": ["success_count": succeeded, "total_count": total], "operation_errors": errors,
        ])])
        let outcome = try await client(transport).upload(.add, users: Self.users, audience: "a1")
        guard case .retriable(let failure, nil) = outcome else { Issue.record("expected retriable, got \(outcome)"); return }
        #expect(failure.code == "INCOMPLETE")
    }

    @Test("a megabyte of error code or message is cut before it reaches results, dead letters or logs")
    func hugeErrorText() async throws {
        let transport = ScriptedTransport([ScriptedTransport.json(200, [
            "data": ["success_count": 1, "total_count": 2],
            "operation_errors": [["index": 1, "code": String(repeating: "C", count: 1_000_000), "message": String(repeating: "é", count: 1_000_000)]],
        ])])
        let outcome = try await client(transport).upload(.add, users: Self.users, audience: "a1")
        guard case .partial(1, let refused) = outcome else { Issue.record("expected partial, got \(outcome)"); return }
        let item = try #require(refused.first)
        #expect(refused.count == 1 && item.index == 1)
        #expect(item.code.unicodeScalars.count == 64 && item.code.hasSuffix("…") && item.code.hasPrefix("CCCC"))
        #expect(item.message.unicodeScalars.count == 300)
    }

    @Test("a created audience's id must be a plain id: `..`, a slash, an empty or a huge id is an answer to retry, never a path", arguments: [
        "..", ".", "a/b", "", String(repeating: "1", count: 65), "x y", "é",
    ])
    func implausibleAudienceID(_ id: String) async throws {
        let transport = ScriptedTransport([ScriptedTransport.json(200, ["data": ["id": id]])])
        let outcome = try await client(transport).createAudience(named: "n", tag: "t")
        guard case .retriable(let failure, nil) = outcome else { Issue.record("expected retriable, got \(outcome)"); return }
        #expect(failure.code == "INVALID_RESPONSE")
    }

    @Test("429 is retriable after x-rate-limit-reset, and holds the client's next request until then")
    func rateLimited() async throws {
        // A minute away, so that a loaded machine stalling this test for seconds cannot reach it (the held request
        // is cancelled, not waited for).
        let reset = Int(Date().timeIntervalSince1970) + 60
        let errors = { (code: String) in ["errors": [["code": code, "message": "m"]]] }
        let transport = ScriptedTransport([
            ScriptedTransport.json(429, errors("TOO_MANY_REQUESTS"), headers: ["x-rate-limit-reset": String(reset), "x-rate-limit-remaining": "0"])
        ])
        let client = client(transport)
        let rateLimited = try await client.upload(.add, users: Self.users, audience: "a1")
        guard case .retriable(let failure, let after?) = rateLimited else { Issue.record("expected retriable with a delay, got \(rateLimited)"); return }
        #expect(failure.code == "TOO_MANY_REQUESTS")
        #expect(after > .seconds(50) && after <= .seconds(60))
        // The limiter now holds requests until the reset: the next call cannot go at once.
        let held = Task { try await client.upload(.add, users: Self.users, audience: "a1") }
        try await Task.sleep(for: .milliseconds(300))
        #expect(transport.requests.count == 1, "a request went out while the window was spent")
        held.cancel()
        _ = try? await held.value
    }

    @Test("503, timeouts, 401 and 400 map to retriable, retriable, credential revoked and permanent")
    func statusKinds() async throws {
        let errors = { (code: String) in ["errors": [["code": code, "message": "m"]]] }
        let transport = ScriptedTransport([
            ScriptedTransport.json(503, errors("OVER_CAPACITY")),
            .fail(.timedOut(.seconds(30))),
            ScriptedTransport.json(401, errors("INVALID_ACCESS_TOKEN")),
            ScriptedTransport.json(400, errors("INVALID_PARAMETER")),
        ])
        let client = client(transport)
        var kinds: [String] = []
        for _ in 0..<4 {
            switch try await client.upload(.add, users: Self.users, audience: "a1") {
            case .retriable(let failure, _): kinds.append("retriable:\(failure.code)")
            case .credentialRevoked(let failure): kinds.append("revoked:\(failure.code)")
            case .permanent(let failure): kinds.append("permanent:\(failure.code)")
            case .done, .partial: kinds.append("success")
            }
        }
        #expect(kinds == ["retriable:OVER_CAPACITY", "retriable:timeout", "revoked:INVALID_ACCESS_TOKEN", "permanent:INVALID_PARAMETER"])
    }

    @Test("a name X says exists is adopted when it carries our tag, across pages; a same-named audience of someone else's never is")
    func adoptsExisting() async throws {
        let transport = ScriptedTransport([
            ScriptedTransport.json(400, ["errors": [["code": "DUPLICATE_AUDIENCE_NAME", "message": "exists"]]]),
            ScriptedTransport.json(200, ["data": [["id": "other", "name": "Buyers 2", "description": "cohortsync:c/a/"]], "next_cursor": "c2"]),
            ScriptedTransport.json(200, ["data": [
                ["id": "gone", "name": "Buyers", "deleted": true, "description": "cohortsync:c/a/"], ["id": "x9", "name": "Buyers", "description": "cohortsync:c/a/"],
            ]]),
        ])
        let outcome = try await client(transport).createAudience(named: "Buyers", tag: "cohortsync:c/a/")
        guard case .done(let id) = outcome else { Issue.record("expected done, got \(outcome)"); return }
        #expect(id == "x9")
        #expect(transport.requests.map(\.method) == ["POST", "GET", "GET"])
        #expect(transport.requests[0].url.hasSuffix("/custom_audiences?name=Buyers&description=cohortsync%3Ac%2Fa%2F"))
        #expect(transport.requests[2].url.contains("cursor=c2"))

        let foreign = ScriptedTransport([
            ScriptedTransport.json(400, ["errors": [["code": "DUPLICATE_AUDIENCE_NAME", "message": "exists"]]]),
            ScriptedTransport.json(200, ["data": [["id": "theirs", "name": "Buyers", "description": "made by hand"]]]),
        ])
        let refused = try await client(foreign).createAudience(named: "Buyers", tag: "cohortsync:c/a/")
        guard case .permanent(let failure) = refused else { Issue.record("expected permanent, got \(refused)"); return }
        #expect(failure.code == "DUPLICATE_AUDIENCE_NAME")
        #expect(failure.message.contains("did not create"))
    }

    @Test("a listing page that is not a list of audiences is asked again later, never read as no audience", arguments: [
        ScriptedTransport.Step.answer(IncomingResponse(status: 200, headers: ["content-type": "text/html"], body: Array("<html>maintenance</html>".utf8))),
        ScriptedTransport.json(200, ["request": ["params": [:] as [String: Any]]]),
        ScriptedTransport.json(200, ["data": [["name": "Buyers", "description": "cohortsync:c/a/"]]]),
        ScriptedTransport.json(200, ["data": [] as [Any], "next_cursor": 42]),
    ])
    func adoptionPageInvalid(_ page: ScriptedTransport.Step) async throws {
        let transport = ScriptedTransport([ScriptedTransport.json(400, ["errors": [["code": "DUPLICATE_AUDIENCE_NAME", "message": "exists"]]]), page])
        let outcome = try await client(transport).createAudience(named: "Buyers", tag: "cohortsync:c/a/")
        guard case .retriable(let failure, nil) = outcome else { Issue.record("expected retriable, got \(outcome)"); return }
        #expect(failure.code == "INVALID_RESPONSE")
    }

    @Test("adoption stops when X repeats a cursor, a permanent failure instead of paging forever")
    func adoptionCursorLoop() async throws {
        let page = ScriptedTransport.json(200, ["data": [["id": "other", "name": "Else"]], "next_cursor": "same"])
        let transport = ScriptedTransport([ScriptedTransport.json(400, ["errors": [["code": "DUPLICATE_AUDIENCE_NAME", "message": "exists"]]]), page, page, page])
        let outcome = try await client(transport).createAudience(named: "Buyers", tag: "cohortsync:c/a/")
        guard case .permanent(let failure) = outcome else { Issue.record("expected permanent, got \(outcome)"); return }
        #expect(failure.message.contains("did not end"))
        #expect(transport.requests.count == 3, "one create and two pages: the second repeats the cursor")
    }

    @Test("the signature's base URL is normalized: the default port dropped, scheme and host lowercased (RFC 5849 3.4.1.2)")
    func normalizedBaseURL() {
        #expect(OAuth1.normalizedBaseURL("http://127.0.0.1:80/12/accounts") == "http://127.0.0.1/12/accounts")
        #expect(OAuth1.normalizedBaseURL("HTTPS://Ads-API.X.com:443/12") == "https://ads-api.x.com/12")
        #expect(OAuth1.normalizedBaseURL("http://127.0.0.1:8089/12") == "http://127.0.0.1:8089/12")
        #expect(OAuth1.normalizedBaseURL("https://ads-api.x.com:8443/12") == "https://ads-api.x.com:8443/12")
    }

    @Test("deleting an audience that is already gone counts as deleted")
    func deleteGone() async throws {
        let transport = ScriptedTransport([ScriptedTransport.json(404, ["errors": [["code": "NOT_FOUND", "message": "gone"]]])])
        let outcome = try await client(transport).deleteAudience("a1")
        guard case .done = outcome else { Issue.record("expected done, got \(outcome)"); return }
        #expect(transport.requests.first?.method == "DELETE")
    }

    @Test("reported size: audience_size, targetable and reasons_not_targetable read from GET of the audience; a withheld size reads 0; no targetable is in doubt")
    func reportedSize() async throws {
        let transport = ScriptedTransport([
            ScriptedTransport.json(200, ["data": ["id": "a1", "audience_size": 12_000, "targetable": true, "reasons_not_targetable": [String]()]]),
            ScriptedTransport.json(200, ["data": ["id": "a2", "audience_size": NSNull(), "targetable": false, "reasons_not_targetable": ["TOO_SMALL"]]]),
            ScriptedTransport.json(200, ["data": ["id": "a3"]]),
            ScriptedTransport.json(404, ["errors": [["code": "NOT_FOUND", "message": "gone"]]]),
        ])
        let sizes = self.client(transport)
        #expect(try await sizes.reportedSize(of: "a1").value == ReportedAudienceSize(size: 12_000, targetable: true))
        #expect(try await sizes.reportedSize(of: "a2").value == ReportedAudienceSize(size: 0, targetable: false, reasons: ["TOO_SMALL"]))
        let doubtful = try await sizes.reportedSize(of: "a3")
        guard case .retriable(let failure, _) = doubtful else { Issue.record("expected retriable, got \(doubtful)"); return }
        #expect(failure.code == "INVALID_RESPONSE")
        let gone = try await sizes.reportedSize(of: "a4")
        guard case .permanent(let notFound) = gone else { Issue.record("expected permanent, got \(gone)"); return }
        #expect(notFound.code == "NOT_FOUND")
        #expect(transport.requests.map(\.method) == ["GET", "GET", "GET", "GET"])
        #expect(transport.requests.first?.url == "http://sandbox:8089/12/accounts/acc1/custom_audiences/a1")
    }
}
