// sandbox-bench: drives a running cohortsync-sandbox with signed X users requests of 2,500 operations each
// and reports requests and operations per second. scripts/bench-sandbox pins the sandbox to one core.
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
    summary: "Sends signed X Ads users requests to a running sandbox and reports throughput.",
    options: [
        OptionSpec("url", default: "http://127.0.0.1:8089", help: "Sandbox base URL."),
        OptionSpec("requests", default: "100", help: "Requests to send (after 3 warm-up requests)."),
        OptionSpec("operations", default: "2500", help: "Operations per request (one user with email and phone each)."),
        OptionSpec("concurrency", default: "2", help: "Requests in flight at once."),
    ])
let options = CommandLineEntry.parse(spec)
let base = options.string("url")!
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

let account = "bench-\(UUID().uuidString.prefix(8))"
let (createStatus, created) = try await send("POST", "/12/accounts/\(account)/custom_audiences", query: [("name", "bench")])
guard createStatus == 200, let audienceID = ((try JSONSerialization.jsonObject(with: created) as? [String: Any])?["data"] as? [String: Any])?["id"] as? String else {
    CommandLineEntry.fail(spec.executable, "could not create an audience (HTTP \(createStatus)); is the sandbox running at \(base)?")
}
let path = "/12/accounts/\(account)/custom_audiences/\(audienceID)/users"

// Bodies are built before the clock starts: the benchmark measures the sandbox, not this client.
let bodies: [Data] = (0..<(requestCount + 3)).map { request in
    let operations = (0..<operationCount).map { index -> [String: Any] in
        let user = request * operationCount + index
        return ["operation_type": "Update", "params": ["users": [[
            "email": [SHA256Digest.hash("user\(user)@example.com").hex], "phone_number": [SHA256Digest.hash("+1555\(user)").hex],
        ]]]]
    }
    return try! JSONSerialization.data(withJSONObject: operations)
}
for warmUp in 0..<3 {
    _ = try await send("POST", path, body: bodies[requestCount + warmUp])
}

let started = ContinuousClock.now
let failures = try await withThrowingTaskGroup(of: Int.self) { group in
    var next = 0
    var failed = 0
    for _ in 0..<min(concurrency, requestCount) {
        let body = bodies[next]
        next += 1
        group.addTask { try await send("POST", path, body: body).0 == 200 ? 0 : 1 }
    }
    while let result = try await group.next() {
        failed += result
        if next < requestCount {
            let body = bodies[next]
            next += 1
            group.addTask { try await send("POST", path, body: body).0 == 200 ? 0 : 1 }
        }
    }
    return failed
}
let elapsed = ContinuousClock.now - started
let seconds = elapsed.inSeconds
let bodyBytes = bodies.prefix(requestCount).reduce(0) { $0 + $1.count } / requestCount
print(String(format: "%d requests x %d operations (%d KB each) in %.2f s: %.1f requests/s, %.0f operations/s, %d failed",
    requestCount, operationCount, bodyBytes / 1024, seconds, Double(requestCount) / seconds, Double(requestCount * operationCount) / seconds, failures))
