import Destinations
import Foundation
import Observability
import Runtime

/// The X Ads API v12 custom-audience subset, under `/12/`, as DESIGN §6 describes it.
struct XAdsAPI: Sendable {
    /// The limits a real account has; flags may lower them to provoke the uploader's handling.
    struct Limits: Sendable {
        var maxOperations = 2_500
        var maxBodyBytes = 5_000_000
        var audienceRequestsPerWindow = 1_500
        var writeRequestsPerWindow = 450
        var windowSeconds: Int64 = 60
        /// Accepted difference between `oauth_timestamp` and the sandbox's clock.
        var timestampSkewSeconds: Int64 = 300
    }

    static let userKeys: Set<String> = ["email", "phone_number", "handle", "twitter_id", "device_id"]

    let store: SandboxStore
    let credentials: OAuth1.Credentials
    let limits: Limits
    let audienceLimiter: FixedWindowRateLimiter
    let writeLimiter: FixedWindowRateLimiter
    let operations: UserOperationCounter
    /// Seconds since the epoch.
    let now: @Sendable () -> Int64

    init(store: SandboxStore, credentials: OAuth1.Credentials, limits: Limits, metrics: MetricsRegistry, now: @escaping @Sendable () -> Int64) {
        self.store = store
        self.operations = UserOperationCounter(metrics: metrics, api: .x)
        self.credentials = credentials
        self.limits = limits
        self.audienceLimiter = FixedWindowRateLimiter(limit: limits.audienceRequestsPerWindow, windowSeconds: limits.windowSeconds)
        self.writeLimiter = FixedWindowRateLimiter(limit: limits.writeRequestsPerWindow, windowSeconds: limits.windowSeconds)
        self.now = now
    }

    static func errors(_ status: Int, _ code: String, _ message: String, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        SandboxJSON.response(status, ["errors": [["code": code, "message": message]], "request": ["params": [:] as [String: Any]]], headers: headers)
    }

    func handle(_ request: HTTPRequest, fault: InjectedFault?) -> HTTPResponse {
        if case .error(let status) = fault {
            return Self.errors(status, status == 503 ? "OVER_CAPACITY" : "INTERNAL_ERROR", "injected fault")
        }
        if fault == .tokenRevoked {
            return Self.errors(401, "INVALID_ACCESS_TOKEN", "The access token was revoked")
        }
        if let refusal = authenticate(request) { return refusal }

        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count >= 4, parts[0] == "12", parts[1] == "accounts", parts[3] == "custom_audiences" else {
            return Self.errors(404, "ROUTE_NOT_FOUND", "No route for \(request.method) \(request.path) in the sandbox's X Ads API subset")
        }
        let account = parts[2]
        let isWrite = request.method != "GET"
        var decision = audienceLimiter.take(account, now: now())
        if decision.allowed, isWrite {
            decision = writeLimiter.take(account, now: now())
        }
        let rateHeaders = [
            ("x-rate-limit-limit", String(decision.limit)), ("x-rate-limit-remaining", String(decision.remaining)),
            ("x-rate-limit-reset", String(decision.resetEpochSeconds)),
        ]
        if !decision.allowed || fault == .rateLimited {
            return Self.errors(429, "TOO_MANY_REQUESTS", "Rate limit exceeded", headers: rateHeaders)
        }
        var response = route(request, account: account, rest: Array(parts.dropFirst(4)))
        response.headers += rateHeaders
        return response
    }

    private func route(_ request: HTTPRequest, account: String, rest: [String]) -> HTTPResponse {
        switch (request.method, rest.count) {
        case ("GET", 0): return list(account: account)
        case ("POST", 0): return create(request, account: account)
        case ("GET", 1): return get(account: account, id: rest[0])
        case ("DELETE", 1): return delete(account: account, id: rest[0])
        case ("POST", 2) where rest[1] == "users": return users(request, account: account, id: rest[0])
        default: return Self.errors(404, "ROUTE_NOT_FOUND", "No route for \(request.method) \(request.path) in the sandbox's X Ads API subset")
        }
    }

    /// Verifies the OAuth 1.0a signature over method, `http://<Host><path>` and the query; nil when valid.
    private func authenticate(_ request: HTTPRequest) -> HTTPResponse? {
        let unauthorized = { (reason: String) in Self.errors(401, "UNAUTHORIZED_ACCESS", "This request is not properly authenticated: \(reason)") }
        guard let header = request.header("Authorization"), let oauth = OAuth1.parseAuthorizationHeader(header) else {
            return unauthorized("missing OAuth Authorization header")
        }
        guard oauth["oauth_consumer_key"] == credentials.consumerKey, oauth["oauth_token"] == credentials.token else {
            return unauthorized("unknown consumer key or token")
        }
        guard oauth["oauth_signature_method"] == "HMAC-SHA1", let signature = oauth["oauth_signature"],
            let timestamp = oauth["oauth_timestamp"].flatMap(Int64.init)
        else {
            return unauthorized("oauth_signature_method must be HMAC-SHA1 with a signature and a timestamp")
        }
        guard abs(timestamp - now()) <= limits.timestampSkewSeconds else {
            return unauthorized("oauth_timestamp is more than \(limits.timestampSkewSeconds) s from the server's clock")
        }
        let host = request.header("Host") ?? "127.0.0.1"
        let parameters = request.query.map { ($0.name, $0.value) } + oauth.filter { $0.key != "oauth_signature" && $0.key != "realm" }.map { ($0.key, $0.value) }
        let base = OAuth1.baseString(method: request.method, baseURL: OAuth1.normalizedBaseURL("http://\(host)\(request.path)"), parameters: parameters)
        let expected = OAuth1.signature(baseString: base, consumerSecret: credentials.consumerSecret, tokenSecret: credentials.tokenSecret)
        return expected == signature ? nil : unauthorized("signature mismatch")
    }

    private func audienceJSON(_ audience: SandboxStore.Audience, deleted: Bool = false) -> [String: Any] {
        let report = AudienceSizeReport.x(memberCount: audience.members.count)
        return [
            "id": audience.id, "name": audience.name, "description": audience.description, "audience_type": "WEB",
            "audience_size": report.size, "targetable": report.targetable, "reasons_not_targetable": report.reasons,
            "deleted": deleted, "created_at": ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(audience.createdAtMilliseconds) / 1000)),
        ]
    }

    private func list(account: String) -> HTTPResponse {
        let data = store.audiences(api: .x, account: account).map { audienceJSON($0) }
        return SandboxJSON.response(200, ["data": data, "total_count": data.count, "request": ["params": ["account_id": account]]])
    }

    /// Characters X refuses in audience names.
    static let forbiddenNameCharacters = Set("+&,%:;@/=?$")

    private func create(_ request: HTTPRequest, account: String) -> HTTPResponse {
        guard let rawName = request.queryValue("name"), !rawName.isEmpty else {
            return Self.errors(400, "MISSING_PARAMETER", "\"name\" is a required parameter")
        }
        if let bad = rawName.first(where: { Self.forbiddenNameCharacters.contains($0) }) {
            return Self.errors(400, "INVALID_PARAMETER", "name must not contain '\(bad)' (strip + & , % : ; @ / = ? $)")
        }
        guard let audience = store.create(api: .x, account: account, name: rawName, description: request.queryValue("description") ?? "") else {
            return Self.errors(400, "DUPLICATE_AUDIENCE_NAME", "An audience named \"\(rawName)\" already exists in account \(account)")
        }
        return SandboxJSON.response(200, ["data": audienceJSON(audience), "request": ["params": ["account_id": account, "name": rawName]]])
    }

    private func get(account: String, id: String) -> HTTPResponse {
        guard let audience = store.audience(api: .x, account: account, id: id) else {
            return Self.errors(404, "NOT_FOUND", "custom audience \(id) not found in account \(account)")
        }
        return SandboxJSON.response(200, ["data": audienceJSON(audience), "request": ["params": ["account_id": account, "custom_audience_id": id]]])
    }

    private func delete(account: String, id: String) -> HTTPResponse {
        guard let audience = store.audience(api: .x, account: account, id: id), store.delete(api: .x, account: account, id: id) else {
            return Self.errors(404, "NOT_FOUND", "custom audience \(id) not found in account \(account)")
        }
        return SandboxJSON.response(200, ["data": audienceJSON(audience, deleted: true), "request": ["params": ["account_id": account, "custom_audience_id": id]]])
    }

    private func users(_ request: HTTPRequest, account: String, id: String) -> HTTPResponse {
        guard request.body.count <= limits.maxBodyBytes else {
            return Self.errors(400, "INVALID_PARAMETER", "the request body is \(request.body.count) bytes; at most \(limits.maxBodyBytes) are allowed")
        }
        guard let parsed = XUsersOperation.parseAll(request.body) else {
            return Self.errors(400, "INVALID_PARAMETER", "the body must be a JSON array of operations")
        }
        guard parsed.count <= limits.maxOperations else {
            return Self.errors(400, "INVALID_PARAMETER", "\(parsed.count) operations in one request; at most \(limits.maxOperations) are allowed")
        }
        var tally = UserOperationCounter.Tally()
        var arrived: [MemberSet.Identifier] = []
        let applied = store.updateMembers(api: .x, account: account, id: id) { members in
            for case .success(let operation) in parsed {
                for user in operation.users {
                    if operation.isDelete {
                        tally.remove(changed: members.remove(user))
                    } else {
                        let changed = members.add(user)
                        tally.add(changed: changed)
                        if changed, store.arrivals.isOn { arrived.append(user[0]) }
                    }
                }
            }
        }
        operations.record(tally)
        store.arrivals.record(arrived, api: .x, audience: id, at: Int64(Date().timeIntervalSince1970 * 1000))
        guard applied else { return Self.errors(404, "NOT_FOUND", "custom audience \(id) not found in account \(account)") }
        var operationErrors: [[String: Any]] = []
        for (index, result) in parsed.enumerated() {
            if case .failure(let error) = result {
                operationErrors.append(["index": index, "code": error.code, "message": error.message])
            }
        }
        return SandboxJSON.response(200, [
            "data": ["success_count": parsed.count - operationErrors.count, "total_count": parsed.count],
            "operation_errors": operationErrors,
            "request": ["params": ["account_id": account, "custom_audience_id": id]],
        ])
    }
}
