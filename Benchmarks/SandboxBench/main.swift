// sandbox-bench: drives a running cohortsync-sandbox with signed X users requests of 2,500 operations each, or
// TikTok mapping requests of as many users, and reports requests, users and ids (digests) per second.
// scripts/bench-sandbox pins the sandbox to one core.
import Destinations
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hashing
import Observability
import Runtime

let spec = CommandLineSpec(
    executable: "sandbox-bench",
    summary: "Sends X Ads users requests (signed) or TikTok mapping requests to a running sandbox and reports throughput.",
    options: [
        OptionSpec("api", default: "x", help: "x (users requests) or tiktok (segment mapping requests)."),
        OptionSpec("url", default: "http://127.0.0.1:8089", help: "Sandbox base URL."),
        OptionSpec("requests", default: "100", help: "Requests to send (after 3 warm-up requests)."),
        OptionSpec("operations", default: "2500", help: "Users per request, each with an email and a phone digest (X: one operation each; TikTok: one row each)."),
        OptionSpec("concurrency", default: "2", help: "Requests in flight at once."),
    ])
let options = CommandLineEntry.parse(spec)
let base = options.string("url")!
let tiktok = options.string("api") == "tiktok"
guard tiktok || options.string("api") == "x" else { CommandLineEntry.fail(spec.executable, "--api must be x or tiktok", status: 64) }
let requestCount: Int
let operationCount: Int
let concurrency: Int
do {
    requestCount = try options.integer("requests", in: 1...100_000)
    operationCount = try options.integer("operations", in: 1...10_000)
    concurrency = try options.integer("concurrency", in: 1...64)
} catch {
    CommandLineEntry.fail(spec.executable, error.message, status: 64)
}
let credentials = OAuth1.Credentials(
    consumerKey: "sandbox-consumer-key", consumerSecret: "sandbox-consumer-secret", token: "sandbox-token", tokenSecret: "sandbox-token-secret")

/// Sends one signed request; returns the HTTP status.
func send(_ method: String, _ path: String, query: [(String, String)] = [], body: Data? = nil) async throws -> (Int, Data) {
    let header = OAuth1.authorizationHeader(
        method: method, baseURL: base + path, query: query, credentials: credentials, nonce: UUID().uuidString,
        timestamp: Int64(Date().timeIntervalSince1970))
    let queryString = query.isEmpty ? "" : "?" + query.map { "\(OAuth1.percentEncode($0.0))=\(OAuth1.percentEncode($0.1))" }.joined(separator: "&")
    var request = URLRequest(url: URL(string: base + path + queryString)!)
    request.httpMethod = method
    request.setValue(header, forHTTPHeaderField: "Authorization")
    request.httpBody = body
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
}

/// Sends one TikTok request with the sandbox's token; returns the business code.
func sendTikTok(_ path: String, _ body: Data) async throws -> (Int, [String: Any]) {
    var request = URLRequest(url: URL(string: base + "/open_api/v1.3" + path)!)
    request.httpMethod = "POST"
    request.setValue("sandbox-tiktok-token", forHTTPHeaderField: "Access-Token")
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.httpBody = body
    let (data, _) = try await URLSession.shared.data(for: request)
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    return (object["code"] as? Int ?? -1, object)
}

let account = "bench-\(UUID().uuidString.prefix(8))"
let audienceID: String
if tiktok {
    let (code, created) = try await sendTikTok(
        "/segment/audience/", try JSONSerialization.data(withJSONObject: ["advertiser_id": account, "action": "create", "custom_audience_name": "bench"]))
    guard code == 0, let id = (created["data"] as? [String: Any])?["audience_id"] as? String else {
        CommandLineEntry.fail(spec.executable, "could not create a TikTok audience (code \(code)); is the sandbox running at \(base)?")
    }
    audienceID = id
} else {
    let (createStatus, created) = try await send("POST", "/12/accounts/\(account)/custom_audiences", query: [("name", "bench")])
    guard createStatus == 200, let id = ((try JSONSerialization.jsonObject(with: created) as? [String: Any])?["data"] as? [String: Any])?["id"] as? String else {
        CommandLineEntry.fail(spec.executable, "could not create an audience (HTTP \(createStatus)); is the sandbox running at \(base)?")
    }
    audienceID = id
}
let path = "/12/accounts/\(account)/custom_audiences/\(audienceID)/users"

/// One request: succeeded or not.
func upload(_ body: Data) async throws -> Bool {
    tiktok ? try await sendTikTok("/segment/mapping/", body).0 == 0 : try await send("POST", path, body: body).0 == 200
}

// Bodies are built before the clock starts: the benchmark measures the sandbox, not this client.
let bodies: [Data] = (0..<(requestCount + 3)).map { request in
    let users = (0..<operationCount).map { index -> (email: String, phone: String) in
        let user = request * operationCount + index
        return (SHA256Digest.hash("user\(user)@example.com").hex, SHA256Digest.hash("+1555\(user)").hex)
    }
    if tiktok {
        let rows = users.map { [["id": $0.email, "audience_ids": [audienceID]], ["id": $0.phone, "audience_ids": [audienceID]]] }
        return try! JSONSerialization.data(withJSONObject: [
            "advertiser_ids": [account], "action": "add", "id_schema": ["EMAIL_SHA256", "PHONE_SHA256"], "batch_data": rows,
        ] as [String: Any])
    }
    let operations = users.map { user -> [String: Any] in
        ["operation_type": "Update", "params": ["users": [["email": [user.email], "phone_number": [user.phone]]]]]
    }
    return try! JSONSerialization.data(withJSONObject: operations)
}
for warmUp in 0..<3 {
    _ = try await upload(bodies[requestCount + warmUp])
}

let started = ContinuousClock.now
let failures = try await withThrowingTaskGroup(of: Int.self) { group in
    var next = 0
    var failed = 0
    for _ in 0..<min(concurrency, requestCount) {
        let body = bodies[next]
        next += 1
        group.addTask { try await upload(body) ? 0 : 1 }
    }
    while let result = try await group.next() {
        failed += result
        if next < requestCount {
            let body = bodies[next]
            next += 1
            group.addTask { try await upload(body) ? 0 : 1 }
        }
    }
    return failed
}
let elapsed = ContinuousClock.now - started
let seconds = elapsed.inSeconds
let bodyBytes = bodies.prefix(requestCount).reduce(0) { $0 + $1.count } / requestCount
print(String(format: "%@: %d requests x %d users (%d KB each) in %.2f s: %.1f requests/s, %.0f operations/s (users), %.0f ids/s, %d failed",
    tiktok ? "tiktok" : "x", requestCount, operationCount, bodyBytes / 1024, seconds, Double(requestCount) / seconds,
    Double(requestCount * operationCount) / seconds, Double(requestCount * operationCount * 2) / seconds, failures))
