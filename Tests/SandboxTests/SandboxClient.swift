import Destinations
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Observability
import Runtime
@testable import Sandbox

/// A sandbox listening on a free loopback port in the test process, and a client that talks to it over
/// HTTP with URLSession (X requests signed with OAuth 1.0a) the way the uploaders will.
final class SandboxHarness: Sendable {
    let sandbox: Sandbox
    let server: HTTPServer
    let base: String
    static let credentials = OAuth1.Credentials(
        consumerKey: "sandbox-consumer-key", consumerSecret: "sandbox-consumer-secret", token: "sandbox-token", tokenSecret: "sandbox-token-secret")

    /// - Parameter arguments: sandbox flags, as on its command line.
    init(_ arguments: [String] = []) throws {
        guard case .run(let options) = try SandboxSettings.spec.parse(arguments, environment: [:]) else {
            throw SandboxRequestError("help requested")
        }
        let settings = try SandboxSettings(options)
        sandbox = Sandbox(settings: settings, metrics: MetricsRegistry(), health: HealthState())
        let router = sandbox.router
        server = try HTTPServer(host: "127.0.0.1", port: 0, threads: 8, maxBodyBytes: 64 << 20, handler: router.handle)
        base = "http://127.0.0.1:\(server.port)"
    }

    deinit { server.stop() }

    struct Answer: @unchecked Sendable {
        // @unchecked: `json` holds JSONSerialization output (immutable Foundation values), read by one test.
        let status: Int
        let headers: [String: String]
        let json: Any?

        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var data: [String: Any] { object["data"] as? [String: Any] ?? [:] }
        var errorCode: String? { ((object["errors"] as? [[String: Any]])?.first)?["code"] as? String }
        var code: Int? { object["code"] as? Int }
    }

    func send(_ method: String, _ pathAndQuery: String, body: Any? = nil, rawBody: Data? = nil, headers: [String: String] = [:]) async throws -> Answer {
        var request = URLRequest(url: URL(string: base + pathAndQuery)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let rawBody {
            request.httpBody = rawBody
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return Answer(status: http.statusCode, headers: headers, json: try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
    }

    /// An X request signed with `credentials`; `query` is signed too.
    func x(
        _ method: String, _ path: String, query: [(String, String)] = [], body: Any? = nil, rawBody: Data? = nil,
        credentials: OAuth1.Credentials = SandboxHarness.credentials, timestamp: Int64 = Int64(Date().timeIntervalSince1970)
    ) async throws -> Answer {
        let authorization = OAuth1.authorizationHeader(
            method: method, baseURL: base + path, query: query, credentials: credentials, nonce: UUID().uuidString, timestamp: timestamp)
        let queryString = query.isEmpty ? "" : "?" + query.map { "\(OAuth1.percentEncode($0.0))=\(OAuth1.percentEncode($0.1))" }.joined(separator: "&")
        return try await send(method, path + queryString, body: body, rawBody: rawBody, headers: ["Authorization": authorization])
    }

    func createXAudience(account: String, name: String) async throws -> String {
        let answer = try await x("POST", "/12/accounts/\(account)/custom_audiences", query: [("name", name)])
        guard answer.status == 200, let id = answer.data["id"] as? String else { throw SandboxRequestError("create failed: \(answer.object)") }
        return id
    }

    func tiktok(_ path: String, _ body: Any, token: String = "sandbox-tiktok-token") async throws -> Answer {
        try await send("POST", "/open_api/v1.3" + path, body: body, headers: ["Access-Token": token])
    }

    func createTikTokAudience(advertiser: String, name: String) async throws -> String {
        let answer = try await tiktok("/segment/audience/", ["advertiser_id": advertiser, "action": "create", "custom_audience_name": name])
        guard answer.code == 0, let id = answer.data["audience_id"] as? String else { throw SandboxRequestError("create failed: \(answer.object)") }
        return id
    }

    /// The sandbox's record of one audience: member count and members as sets of "key=digest".
    func recorded(_ destination: String, _ id: String) async throws -> (count: Int, members: Set<Set<String>>, entry: [String: Any]) {
        let answer = try await send("GET", "/_sandbox/audiences")
        let audiences = answer.object["audiences"] as? [[String: Any]] ?? []
        guard let entry = audiences.first(where: { $0["destination"] as? String == destination && $0["id"] as? String == id }) else {
            return (0, [], [:])
        }
        let members = (entry["members"] as? [[String: [String]]] ?? []).map { member in
            Set(member.flatMap { key, digests in digests.map { "\(key)=\($0)" } })
        }
        return (entry["member_count"] as? Int ?? -1, Set(members), entry)
    }
}

/// Deterministic test digests: 64 lowercase hex characters derived from a label.
func digest(_ label: String) -> String {
    var hash: UInt64 = 1469598103934665603
    for byte in label.utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
    var out = ""
    var state = hash
    while out.count < 64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        out += String(format: "%016llx", state)
    }
    return String(out.prefix(64))
}

/// An X operation on users given as key → labels.
func xOperation(_ type: String, _ users: [[String: [String]]]) -> [String: Any] {
    ["operation_type": type, "params": ["users": users.map { $0.mapValues { $0.map(digest) } }]]
}
