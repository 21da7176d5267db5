import Foundation
import HTTPClient
import Wire

/// The TikTok Business API v1.3 partner-segment calls (DESIGN §6), authenticated by `Access-Token`.
///
/// TikTok answers HTTP 200 with `{code, message, request_id, data}` for almost everything; the code decides.
public struct TikTokClient: AudienceAPI {
    public struct Settings: Sendable {
        /// The API root, `https://business-api.tiktok.com/open_api/v1.3` or the sandbox's.
        public var baseURL: String
        public var advertiser: String
        public var requestTimeout: Duration
        /// Requests per minute for this access token.
        public var requestsPerMinute: Int

        public init(baseURL: String, advertiser: String, requestTimeout: Duration = .seconds(30), requestsPerMinute: Int = 600) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.advertiser = advertiser
            self.requestTimeout = requestTimeout
            self.requestsPerMinute = requestsPerMinute
        }
    }

    public let destination = Destination.tiktok
    public let maxNameLength = 128

    /// Codes worth sending again: rate limited, system error.
    static let retriableCodes: Set<Int> = [40100, 50000]
    /// Codes of an expired or invalid token.
    static let credentialCodes: Set<Int> = [40102, 40105]
    /// Partial success: some rows were refused.
    static let partialCode = 20001

    private let settings: Settings
    private let transport: any HTTPTransport
    private let accessToken: @Sendable () -> String
    private let limiter: RequestRateLimiter

    /// - Parameter accessToken: read before every request, so a rotated token is used at once.
    public init(settings: Settings, transport: any HTTPTransport, accessToken: @escaping @Sendable () -> String) {
        self.settings = settings
        self.transport = transport
        self.accessToken = accessToken
        limiter = RequestRateLimiter(budget: .init(requests: settings.requestsPerMinute))
    }

    public func reserveCreate() async throws {
        try await limiter.acquire()
    }

    public func createAudience(named name: String, tag: String) async throws -> DestinationOutcome<String> {
        return try await call("/segment/audience/", audienceBody(#","action":"create","custom_audience_name":"#, name), reserved: true) { data, _ in
            guard let id = ResponseJSON.id(data["audience_id"]) else {
                return .retriable(DestinationFailure(code: "INVALID_RESPONSE", message: "create answered without data.audience_id"), after: nil)
            }
            return .done(id)
        }
    }

    public func upload(_ operation: BatchOperation, users: [BatchUser], audience: String) async throws -> DestinationOutcome<Int> {
        let request = TikTokMappingBody(operation, users: users, advertiser: settings.advertiser, audience: audience)
        guard !request.rowUsers.isEmpty else { return .partial(0, refused: request.unsendable) }
        return try await call("/segment/mapping/", request.body) { data, code in
            guard code == Self.partialCode else {
                return request.unsendable.isEmpty ? .done(users.count) : .partial(users.count - request.unsendable.count, refused: request.unsendable)
            }
            // A row refused refuses its user; a user with several rows counts once.
            var refused = request.unsendable
            var seen = Set(refused.map(\.index))
            for row in data["failed_rows"] as? [[String: Any]] ?? [] {
                guard let index = ResponseJSON.int(row["row_index"]), request.rowUsers.indices.contains(index) else { continue }
                let user = request.rowUsers[index]
                if seen.insert(user).inserted {
                    refused.append(RefusedItem(index: user, code: ResponseJSON.id(row["code"]) ?? String(Self.partialCode), message: row["message"] as? String ?? ""))
                }
            }
            guard refused.count > request.unsendable.count else {
                // Partial success without the rows: which users were taken is unknown; sending all again is harmless.
                return .retriable(DestinationFailure(code: String(Self.partialCode), message: "partial success without failed_rows"), after: nil)
            }
            return .partial(users.count - refused.count, refused: refused.sorted { $0.index < $1.index })
        }
    }

    public func deleteAudience(_ audience: String) async throws -> DestinationOutcome<Void> {
        return try await call("/segment/audience/", audienceBody(#","action":"delete","delete_audience_id":"#, audience)) { _, _ in .done(()) }
    }

    /// `{"advertiser_id": <advertiser>` + `action` (the action and its field's key) + `value` + `}`.
    private func audienceBody(_ action: StaticString, _ value: String) -> [UInt8] {
        var body = JSONBodyWriter()
        body.raw(#"{"advertiser_id":"#)
        body.string(settings.advertiser)
        body.raw(action)
        body.string(value)
        body.raw("}")
        return body.bytes
    }

    /// One request after the rate limiter let it go (unless its turn was `reserved`); `success` reads `data`
    /// of a code 0 or 20001 answer.
    private func call<Value>(
        _ path: String, _ body: [UInt8], reserved: Bool = false, success: ([String: Any], Int) -> DestinationOutcome<Value>
    ) async throws -> DestinationOutcome<Value> {
        if !reserved { try await limiter.acquire() }
        let request = OutgoingRequest(
            method: "POST", url: settings.baseURL + path,
            headers: [(name: "Access-Token", value: accessToken()), (name: "Content-Type", value: "application/json")], body: body,
            timeout: settings.requestTimeout)
        let response: IncomingResponse
        do {
            response = try await transport.send(request)
        } catch .cancelled {
            throw CancellationError()
        } catch {
            return Result<IncomingResponse, TransportError>.failure(error).failureOutcome()
        }
        guard response.status == 200 else {
            let failure = DestinationFailure(code: "HTTP_\(response.status)", message: "TikTok answered HTTP \(response.status)", httpStatus: response.status)
            switch response.status {
            case 429, 500...599:
                if response.status == 429 { limiter.hold(for: RetryBackoff.serverDelay(response) ?? .seconds(1)) }
                return .retriable(failure, after: RetryBackoff.serverDelay(response))
            case 401: return .credentialRevoked(failure)
            default: return .permanent(failure)
            }
        }
        guard let object = ResponseJSON.object(response.body), let code = ResponseJSON.int(object["code"]) else {
            return .retriable(DestinationFailure(code: "INVALID_RESPONSE", message: "the answer has no code", httpStatus: 200), after: nil)
        }
        let failure = DestinationFailure(code: String(code), message: object["message"] as? String ?? "", httpStatus: 200)
        switch code {
        case 0, Self.partialCode: return success(object["data"] as? [String: Any] ?? [:], code)
        case _ where Self.retriableCodes.contains(code):
            if code == 40100 { limiter.hold(for: .seconds(1)) }
            return .retriable(failure, after: nil)
        case _ where Self.credentialCodes.contains(code): return .credentialRevoked(failure)
        default: return .permanent(failure)
        }
    }
}
