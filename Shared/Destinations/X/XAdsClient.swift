import Foundation
import HTTPClient
import Wire

/// The X Ads API v12 custom-audience calls (DESIGN §6), signed with OAuth 1.0a.
public struct XAdsClient: AudienceAPI {
    public struct Settings: Sendable {
        /// The API root, `https://ads-api.x.com/12` or the sandbox's `http://host:port/12`.
        public var baseURL: String
        public var account: String
        public var requestTimeout: Duration
        /// Write requests (POST, PUT, DELETE) per minute: one category at X.
        public var writesPerMinute: Int
        /// Reads (listing audiences) per minute.
        public var readsPerMinute: Int

        public init(baseURL: String, account: String, requestTimeout: Duration = .seconds(30), writesPerMinute: Int = 450, readsPerMinute: Int = 1_500) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.account = account
            self.requestTimeout = requestTimeout
            self.writesPerMinute = writesPerMinute
            self.readsPerMinute = readsPerMinute
        }
    }

    public let destination = Destination.x
    /// Pages of 1,000 audiences read while looking for one to adopt.
    static let maxAdoptionPages = 50
    /// X documents no limit for list-audience names; longer names are cut here so they stay readable.
    public let maxNameLength = 255

    private let settings: Settings
    private let transport: any HTTPTransport
    private let credentials: @Sendable () -> OAuth1.Credentials
    private let writes: RequestRateLimiter
    private let reads: RequestRateLimiter

    /// - Parameter credentials: read before every request, so a rotated credential is used at once.
    public init(settings: Settings, transport: any HTTPTransport, credentials: @escaping @Sendable () -> OAuth1.Credentials) {
        self.settings = settings
        self.transport = transport
        self.credentials = credentials
        writes = RequestRateLimiter(budget: .init(requests: settings.writesPerMinute))
        reads = RequestRateLimiter(budget: .init(requests: settings.readsPerMinute))
    }

    private var audiencesPath: String { "/accounts/\(OAuth1.percentEncode(settings.account))/custom_audiences" }

    public func reserveCreate() async throws {
        try await writes.acquire()
    }

    public func createAudience(named name: String, tag: String) async throws -> DestinationOutcome<String> {
        let answer = try await call("POST", audiencesPath, query: [("name", name), ("description", tag)], reserved: true)
        guard case .success(let response) = answer else { return answer.failureOutcome() }
        if (200..<300).contains(response.status) {
            guard let id = ResponseJSON.id((ResponseJSON.object(response.body)?["data"] as? [String: Any])?["id"]) else {
                return .retriable(DestinationFailure(code: "INVALID_RESPONSE", message: "create answered without data.id", httpStatus: response.status), after: nil)
            }
            return .done(id)
        }
        let failure = Self.failure(response)
        if failure.code == "DUPLICATE_AUDIENCE_NAME" { return try await adopt(named: name, tag: tag, after: failure) }
        return Self.classify(response, failure)
    }

    /// X keeps the tag as the description, so the tag alone decides, whatever the time.
    public func findCreated(named name: String, tag: String, since: Int64, excluding: Set<String>) async throws -> DestinationOutcome<String?> {
        try await findTagged(named: name, tag: tag).outcome
    }

    /// The audience that already has `name` and our `tag`: created by an earlier attempt whose answer was
    /// lost. One of that name without the tag belongs to someone else (another cohort, a person) and is
    /// never taken over.
    private func adopt(named name: String, tag: String, after duplicate: DestinationFailure) async throws -> DestinationOutcome<String> {
        let (found, foreign) = try await findTagged(named: name, tag: tag)
        switch found {
        case .done(let id?), .partial(let id?, _): return .done(id)
        case .done(nil), .partial(nil, _):
            let message = foreign
                ? "account \(settings.account) has another audience named \"\(name)\" that CohortSync did not create; rename the upstream audience or that one"
                : "X says an audience named \"\(name)\" exists, but no listed audience has that name"
            return .permanent(DestinationFailure(code: duplicate.code, message: message, httpStatus: duplicate.httpStatus))
        case .retriable, .permanent, .credentialRevoked: return found.failure()!
        }
    }

    /// Lists the account's audiences for the live one named `name` with description `tag`; `foreign` tells
    /// whether one of that name without the tag was seen.
    private func findTagged(named name: String, tag: String) async throws -> (outcome: DestinationOutcome<String?>, foreign: Bool) {
        var foreign = false
        var cursor: String?
        var seen: Set<String> = []
        var pages = 0
        repeat {
            pages += 1
            var query = [("count", "1000")]
            if let cursor { query.append(("cursor", cursor)) }
            let answer = try await call("GET", audiencesPath, query: query)
            guard case .success(let response) = answer else { return (answer.failureOutcome(), foreign) }
            guard (200..<300).contains(response.status) else { return (Self.classify(response, Self.failure(response)), foreign) }
            // A page that is not a list of audiences says nothing about whether ours exists: asked again later,
            // never read as "none" (which would dead-letter an add, or settle a create intent too early).
            let invalid = { (what: String) in
                (DestinationOutcome<String?>.retriable(DestinationFailure(code: "INVALID_RESPONSE", message: what, httpStatus: response.status), after: nil), foreign)
            }
            guard let object = ResponseJSON.object(response.body), let audiences = object["data"] as? [[String: Any]] else {
                return invalid("the audience list answered without a data array")
            }
            for audience in audiences where audience["name"] as? String == name && audience["deleted"] as? Bool != true {
                guard audience["description"] as? String == tag else {
                    foreign = true
                    continue
                }
                guard let id = ResponseJSON.id(audience["id"]) else { return invalid("the listed audience named \"\(name)\" has no plain id") }
                return (.done(id), foreign)
            }
            switch object["next_cursor"] {
            case nil, is NSNull: cursor = nil
            case let next as String: cursor = next.isEmpty ? nil : next
            default: return invalid("next_cursor is not a string")
            }
            // A cursor given twice, or more pages than any account holds, would page forever.
            if let next = cursor, !seen.insert(next).inserted || pages >= Self.maxAdoptionPages {
                return (.permanent(DestinationFailure(
                    code: "AUDIENCE_LIST_UNBOUNDED",
                    message: "listing the account's audiences to find \"\(name)\" did not end (cursor repeated or over \(Self.maxAdoptionPages) pages)")), foreign)
            }
        } while cursor != nil
        return (.done(nil), foreign)
    }

    public func upload(_ operation: BatchOperation, users: [BatchUser], audience: String) async throws -> DestinationOutcome<Int> {
        let body = XUsersBody.encode(operation, users: users)
        let answer = try await call("POST", "\(audiencesPath)/\(OAuth1.percentEncode(audience))/users", body: body)
        guard case .success(let response) = answer else { return answer.failureOutcome() }
        guard (200..<300).contains(response.status) else { return Self.classify(response, Self.failure(response)) }
        let object = ResponseJSON.object(response.body)
        let data = object?["data"] as? [String: Any]
        guard let succeeded = ResponseJSON.int(data?["success_count"]), let total = ResponseJSON.int(data?["total_count"]) else {
            return .retriable(DestinationFailure(code: "INVALID_RESPONSE", message: "users answered without success_count and total_count", httpStatus: response.status), after: nil)
        }
        // Each operation refused once, by its first error: an index named twice must not count as two refusals
        // (the user it would stand in for would be neither taken nor dead-lettered).
        var named = Set<Int>()
        let refused = (object?["operation_errors"] as? [[String: Any]] ?? []).compactMap { error -> RefusedItem? in
            guard let index = ResponseJSON.int(error["index"]), users.indices.contains(index), named.insert(index).inserted else { return nil }
            return RefusedItem(index: index, code: DestinationText.code(error["code"]) ?? "OPERATION_ERROR", message: DestinationText.message(error["message"]))
        }
        // Counts outside 0...sent are no count at all (and adding them could overflow).
        let counted = total == users.count && (0...users.count).contains(succeeded)
        if counted && succeeded == total && refused.isEmpty { return .done(succeeded) }
        if counted && succeeded + refused.count == users.count { return .partial(succeeded, refused: refused) }
        // Counts that do not add up: which operations were taken is unknown. Sending all again is harmless.
        return .retriable(DestinationFailure(
            code: "INCOMPLETE", message: "X took \(succeeded) of \(total) operations (\(users.count) sent) and named \(refused.count) errors",
            httpStatus: response.status), after: nil)
    }

    public func deleteAudience(_ audience: String) async throws -> DestinationOutcome<Void> {
        let answer = try await call("DELETE", "\(audiencesPath)/\(OAuth1.percentEncode(audience))")
        guard case .success(let response) = answer else { return answer.failureOutcome() }
        if (200..<300).contains(response.status) || response.status == 404 { return .done(()) }
        return Self.classify(response, Self.failure(response))
    }

    /// `GET /accounts/{a}/custom_audiences/{id}`: `audience_size`, `targetable`, `reasons_not_targetable`.
    public func reportedSize(of audience: String) async throws -> DestinationOutcome<ReportedAudienceSize> {
        let answer = try await call("GET", "\(audiencesPath)/\(OAuth1.percentEncode(audience))")
        guard case .success(let response) = answer else { return answer.failureOutcome() }
        guard (200..<300).contains(response.status) else { return Self.classify(response, Self.failure(response)) }
        let data = ResponseJSON.object(response.body)?["data"] as? [String: Any]
        guard let targetable = data?["targetable"] as? Bool else {
            return .retriable(DestinationFailure(code: "INVALID_RESPONSE", message: "the audience answered without data.targetable", httpStatus: response.status), after: nil)
        }
        // X leaves audience_size null while it withholds it; that reads as 0, with the reasons saying why.
        return .done(ReportedAudienceSize(
            size: ResponseJSON.int(data?["audience_size"]) ?? 0, targetable: targetable, reasons: data?["reasons_not_targetable"] as? [String] ?? []))
    }

    /// One signed request, after the rate limiter of its category let it go (unless its turn was `reserved`).
    private func call(
        _ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8] = [], reserved: Bool = false
    ) async throws -> Result<IncomingResponse, TransportError> {
        if !reserved { try await (method == "GET" ? reads : writes).acquire() }
        let url = settings.baseURL + path
        let authorization = OAuth1.authorizationHeader(
            method: method, baseURL: OAuth1.normalizedBaseURL(url), query: query, credentials: credentials(), nonce: UUID().uuidString,
            timestamp: Int64(Date().timeIntervalSince1970))
        let queryString = query.isEmpty ? "" : "?" + query.map { "\(OAuth1.percentEncode($0.0))=\(OAuth1.percentEncode($0.1))" }.joined(separator: "&")
        var headers = [(name: "Authorization", value: authorization)]
        if !body.isEmpty { headers.append((name: "Content-Type", value: "application/json")) }
        do {
            let response = try await transport.send(OutgoingRequest(method: method, url: url + queryString, headers: headers, body: body, timeout: settings.requestTimeout))
            (method == "GET" ? reads : writes).observe(response)
            if response.status == 429 { (method == "GET" ? reads : writes).hold(for: RetryBackoff.serverDelay(response) ?? .seconds(1)) }
            return .success(response)
        } catch .cancelled {
            throw CancellationError()
        } catch {
            return .failure(error)
        }
    }

    /// X's error: the first of `errors`, or the status.
    static func failure(_ response: IncomingResponse) -> DestinationFailure {
        let first = (ResponseJSON.object(response.body)?["errors"] as? [[String: Any]])?.first
        return DestinationFailure(
            code: DestinationText.code(first?["code"]) ?? "HTTP_\(response.status)", message: DestinationText.message(first?["message"]),
            httpStatus: response.status)
    }

    /// A non-2xx answer: 429 and 5xx retriable (503 is X's OVER_CAPACITY), 401 a revoked credential, any other 4xx permanent.
    static func classify<Value>(_ response: IncomingResponse, _ failure: DestinationFailure) -> DestinationOutcome<Value> {
        switch response.status {
        case 429, 500...599: .retriable(failure, after: RetryBackoff.serverDelay(response))
        case 401: .credentialRevoked(failure)
        default: .permanent(failure)
        }
    }
}

extension Result where Success == IncomingResponse, Failure == TransportError {
    /// A transport failure as an outcome: retriable, except a URL that cannot be parsed.
    func failureOutcome<Value>() -> DestinationOutcome<Value> {
        guard case .failure(let error) = self else { preconditionFailure("failureOutcome of a success") }
        switch error {
        case .invalidURL: return .permanent(DestinationFailure(code: "invalid-url", message: error.description))
        case .timedOut: return .retriable(DestinationFailure(code: "timeout", message: error.description), after: nil)
        case .connection: return .retriable(DestinationFailure(code: "connection", message: error.description), after: nil)
        case .cancelled: return .retriable(DestinationFailure(code: "cancelled", message: error.description), after: nil)
        }
    }
}
