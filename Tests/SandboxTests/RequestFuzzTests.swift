import Destinations
import Foundation
import Observability
import Runtime
@testable import Sandbox
import TestSupport
import Testing

/// A million mutated request bodies for each API: X's through its operations parser (every tenth through
/// the whole API too), TikTok's through the router, authenticated so that each reaches the body parsing.
/// None may crash or hang the sandbox, and every answer is the API's own error or success shape, never a
/// server error.
@Suite("Sandbox: fuzzed request bodies")
struct RequestFuzzTests {
    static let digest = String(repeating: "ab12", count: 16)
    static let clock: Int64 = 1_795_000_000

    let router: SandboxRouter
    let xAudience: String
    let tiktokAudience: String

    init() throws {
        let flags = ["--x-audience-rate-limit", "1000000000", "--x-write-rate-limit", "1000000000", "--tiktok-rate-limit", "1000000000"]
        guard case .run(let options) = try SandboxSettings.spec.parse(flags, environment: [:]) else { throw TestSupportError("help requested") }
        router = Sandbox(settings: try SandboxSettings(options), metrics: MetricsRegistry(), health: HealthState(), now: { Self.clock }).router
        let created = Self.json(router.handle(Self.x("POST", "/12/accounts/acc1/custom_audiences", query: [("name", "Fuzzed")])))
        xAudience = try #require((created?["data"] as? [String: Any])?["id"] as? String)
        let tiktok = Self.json(router.handle(Self.tiktok("/open_api/v1.3/segment/audience/", Array(#"{"advertiser_id":"adv1","action":"create","custom_audience_name":"Fuzzed"}"#.utf8))))
        tiktokAudience = try #require((tiktok?["data"] as? [String: Any])?["audience_id"] as? String)
    }

    static func json(_ response: HTTPResponse) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
    }

    static func x(_ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8] = []) -> HTTPRequest {
        let authorization = OAuth1.authorizationHeader(
            method: method, baseURL: "http://127.0.0.1" + path, query: query, credentials: SandboxHarness.credentials, nonce: "fuzz", timestamp: clock)
        return HTTPRequest(method: method, path: path, query: query.map { (name: $0.0, value: $0.1) }, headers: [("Authorization", authorization)], body: body)
    }

    static func tiktok(_ path: String, _ body: [UInt8]) -> HTTPRequest {
        HTTPRequest(method: "POST", path: path, headers: [("Access-Token", "sandbox-tiktok-token")], body: body)
    }

    static let jsonDictionary: [[UInt8]] = [
        #""operation_type""#, #""Update""#, #""Delete""#, #""params""#, #""users""#, #""email""#, #""phone_number""#, #""device_id""#,
        #""handle""#, #""twitter_id""#, #""advertiser_ids""#, #""action""#, #""add""#, #""delete""#, #""id_schema""#, #""EMAIL_SHA256""#,
        #""PHONE_SHA256""#, #""AAID_SHA256""#, #""batch_data""#, #""audience_ids""#, #""id""#, #""create""#, #""custom_audience_name""#,
        #""delete_audience_id""#, "\"\(digest)\"", "\"\(digest.uppercased())\"", "\\u0000", "\\ud800", "1e999", "-1", "null", "true", "[", "]", "{", "}",
        "{}", "[]", ",", ":", "\u{FEFF}",
    ].map { Array($0.utf8) }

    @Test("1,000,000 X users bodies parsed, every tenth through the whole API: 200 or 400 in X's shape, never a crash, hang or 5xx")
    func fuzzXUsers() throws {
        let path = "/12/accounts/acc1/custom_audiences/\(xAudience)/users"
        let corpus = [
            #"[{"operation_type":"Update","params":{"users":[{"email":["\#(Self.digest)"],"phone_number":["\#(Self.digest)"]},{"device_id":["\#(Self.digest)"]}]}},{"operation_type":"Delete","params":{"users":[{"handle":["\#(Self.digest)"],"twitter_id":["\#(Self.digest)"]}]}}]"#,
            #"[{"operation_type":"Delete","params":{"users":[{"email":["\#(Self.digest)","\#(Self.digest)"]}]}}]"#,
        ].map { Array($0.utf8) }
        var fuzzer = Fuzzer(defaultSeed: 0x5A_4D_B0, corpus: corpus, dictionary: Self.jsonDictionary)
        let headers = Self.x("POST", path).headers
        var parsed = (operations: 0, refused: 0, notArrays: 0)
        var statuses: [Int: Int] = [:]
        let count = Fuzzer.inputCount(standard: 1_000_000)
        let report = try fuzzer.run(target: "sandbox-x-users", count: count) { index, body in
            // The parser alone for every input (authentication would otherwise cost most of the time).
            if let operations = XUsersOperation.parseAll(body) {
                for operation in operations {
                    switch operation {
                    case .success(let valid):
                        guard !valid.users.isEmpty, valid.users.allSatisfy({ !$0.isEmpty }) else { throw TestSupportError("accepted an operation without users") }
                        parsed.operations += 1
                    case .failure(let refusal):
                        guard !refusal.code.isEmpty, !refusal.message.isEmpty else { throw TestSupportError("a refusal without code or message") }
                        parsed.refused += 1
                    }
                }
            } else {
                parsed.notArrays += 1
            }
            guard index % 10 == 0 else { return }
            let response = router.handle(HTTPRequest(method: "POST", path: path, headers: headers, body: body))
            statuses[response.status, default: 0] += 1
            guard response.status == 200 || response.status == 400 else { throw TestSupportError("answered \(response.status)") }
            let answer = try #require(Self.json(response), "answer is not a JSON object")
            if response.status == 400 {
                let errors = try #require(answer["errors"] as? [[String: Any]])
                guard let code = errors.first?["code"] as? String, !code.isEmpty else { throw TestSupportError("a 400 without an error code") }
            } else {
                _ = try #require(answer["data"] as? [String: Any])
            }
        }
        print("fuzz sandbox X users (seed \(fuzzer.seed)): \(report); \(parsed.operations) operations valid, \(parsed.refused) refused, \(parsed.notArrays) bodies not arrays; statuses \(statuses.sorted { $0.key < $1.key })")
        let answered = statuses.values.reduce(0, +)
        #expect(answered == (count + 9) / 10)
        #expect(parsed.operations > count / 20 && parsed.refused > count / 20 && parsed.notArrays > count / 20, "every path of the parser must be reached")
        #expect(statuses[200, default: 0] > answered / 100 && statuses[400, default: 0] > answered / 10, "both answers must be reached")
    }

    @Test("1,000,000 TikTok bodies: HTTP 200 with code, message and request_id, never a crash, hang or internal error")
    func fuzzTikTok() throws {
        let mapping = "/open_api/v1.3/segment/mapping/"
        let audience = "/open_api/v1.3/segment/audience/"
        let corpus = [
            #"{"advertiser_ids":["adv1"],"action":"add","id_schema":["EMAIL_SHA256","PHONE_SHA256","AAID_SHA256"],"batch_data":[[{"id":"\#(Self.digest)","audience_ids":["\#(tiktokAudience)"]},{},{"id":"\#(Self.digest)","audience_ids":["\#(tiktokAudience)"]}],[{},{"id":"\#(Self.digest)","audience_ids":["\#(tiktokAudience)"]},{}]]}"#,
            #"{"advertiser_ids":["adv1"],"action":"delete","id_schema":["IDFA_SHA256"],"batch_data":[[{"id":"\#(Self.digest)","audience_ids":["\#(tiktokAudience)"]}]]}"#,
            #"{"advertiser_id":"adv1","action":"create","custom_audience_name":"Fuzzed again"}"#,
            #"{"advertiser_id":"adv1","action":"delete","delete_audience_id":"999"}"#,
        ].map { Array($0.utf8) }
        var fuzzer = Fuzzer(defaultSeed: 0x71_C70C, corpus: corpus, dictionary: Self.jsonDictionary)
        var codes: [Int: Int] = [:]
        let count = Fuzzer.inputCount(standard: 1_000_000)
        let report = try fuzzer.run(target: "sandbox-tiktok", count: count) { index, body in
            let response = router.handle(Self.tiktok(index % 4 == 3 ? audience : mapping, body))
            guard response.status == 200 else { throw TestSupportError("answered HTTP \(response.status); TikTok always answers 200") }
            let answer = try #require(Self.json(response), "answer is not a JSON object")
            let code = try #require(answer["code"] as? Int)
            _ = try #require(answer["message"] as? String)
            _ = try #require(answer["request_id"] as? String)
            guard code != 50000 else { throw TestSupportError("internal error 50000: \(answer["message"] ?? "")") }
            codes[code, default: 0] += 1
        }
        print("fuzz sandbox TikTok (seed \(fuzzer.seed)): \(report); codes \(codes.sorted { $0.key < $1.key })")
        #expect(codes.values.reduce(0, +) == count)
        #expect(codes[0, default: 0] > count / 500 && codes[40002, default: 0] > count / 10, "both success and refusal must be reached")
    }
}
