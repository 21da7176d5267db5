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
    /// Audiences per page of the list call (TikTok's maximum), and the most pages read while looking for one.
    static let listPageSize = 100
    static let maxListPages = 200
    /// How far TikTok's clock may run behind ours when telling an audience made by our create from an older one.
    static let clockSkewMilliseconds: Int64 = 60_000

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
                    refused.append(RefusedItem(index: user, code: DestinationText.code(row["code"]) ?? String(Self.partialCode), message: DestinationText.message(row["message"])))
                }
            }
            guard refused.count > request.unsendable.count else {
                // Partial success without the rows: which users were taken is unknown; sending all again is harmless.
                return .retriable(DestinationFailure(code: String(Self.partialCode), message: "partial success without failed_rows"), after: nil)
            }
            return .partial(users.count - refused.count, refused: refused.sorted { $0.index < $1.index })
        }
    }

    /// TikTok takes no description, so the audience is told by its name and its creation time: the one of
    /// that name created since `since` (less the clock skew) that no mapping of ours names. Anything that
    /// leaves a doubt (an answer without its list, a same-named entry without a readable id or time, more than
    /// one candidate) is retriable, never "none": a wrong "none" creates a second audience.
    public func findCreated(named name: String, tag: String, since: Int64, excluding: Set<String>) async throws -> DestinationOutcome<String?> {
        var candidates: [String] = []
        for page in 1...Self.maxListPages {
            let query = "?advertiser_id=\(Self.queryEncoded(settings.advertiser))&page=\(page)&page_size=\(Self.listPageSize)"
            let listed: DestinationOutcome<Int> = try await call("/dmp/custom_audience/list/" + query, [], method: "GET") { data, _ in
                guard let list = data["list"] as? [[String: Any]], let pages = ResponseJSON.int((data["page_info"] as? [String: Any])?["total_page"]) else {
                    return .retriable(DestinationFailure(code: "INVALID_RESPONSE", message: "the audience list answered without data.list and data.page_info.total_page"), after: nil)
                }
                for audience in list where audience["name"] as? String == name {
                    guard let id = ResponseJSON.id(audience["audience_id"]), let created = (audience["create_time"] as? String).flatMap(Self.unixMilliseconds) else {
                        return .retriable(DestinationFailure(
                            code: "INVALID_RESPONSE", message: "the audience list has an audience named \"\(name)\" without a readable audience_id and create_time"), after: nil)
                    }
                    if created >= since - Self.clockSkewMilliseconds && !excluding.contains(id) { candidates.append(id) }
                }
                return .done(pages)
            }
            guard let pages = listed.value else { return listed.failure()! }
            if page >= pages { break }
            if page == Self.maxListPages {
                return .permanent(DestinationFailure(
                    code: "AUDIENCE_LIST_UNBOUNDED",
                    message: "advertiser \(settings.advertiser) lists more than \(Self.maxListPages) pages of audiences; looking for \"\(name)\" stopped there"))
            }
        }
        guard candidates.count <= 1 else {
            return .retriable(DestinationFailure(
                code: "AMBIGUOUS_AUDIENCE",
                message: "\(candidates.count) audiences named \"\(name)\" (\(candidates.joined(separator: ", "))) were made since this audience's create intent; CohortSync cannot tell which its create made: delete the extra ones in TikTok Ads Manager"),
                after: nil)
        }
        return .done(candidates.first)
    }

    /// `GET /dmp/custom_audience/get/`: the audience's `cover_num` (users matched) and `is_valid` (targetable).
    public func reportedSize(of audience: String) async throws -> DestinationOutcome<ReportedAudienceSize> {
        var list = JSONBodyWriter()
        list.raw("[")
        list.string(audience)
        list.raw("]")
        let ids = String(decoding: list.bytes, as: UTF8.self)
        let query = "?advertiser_id=\(Self.queryEncoded(settings.advertiser))&custom_audience_ids=\(Self.queryEncoded(ids))"
        return try await call("/dmp/custom_audience/get/" + query, [], method: "GET") { data, _ in
            let details = (data["list"] as? [[String: Any]])?.lazy.compactMap { $0["audience_details"] as? [String: Any] }
                .first { ResponseJSON.id($0["audience_id"]) == audience }
            guard let details, let covered = ResponseJSON.int(details["cover_num"]), let valid = details["is_valid"] as? Bool else {
                return .retriable(DestinationFailure(
                    code: "INVALID_RESPONSE", message: "the audience answer has no audience_details with cover_num and is_valid for \(audience)"), after: nil)
            }
            return .done(ReportedAudienceSize(size: covered, targetable: valid, reasons: valid ? [] : ["NOT_VALID"]))
        }
    }

    /// TikTok's `create_time`, `yyyy-MM-dd HH:mm:ss` in UTC, as Unix milliseconds.
    static func unixMilliseconds(_ time: String) -> Int64? {
        let fields = time.split(whereSeparator: { $0 == "-" || $0 == " " || $0 == ":" }).compactMap { Int($0) }
        guard fields.count == 6 else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour, components.minute, components.second) =
            (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else { return nil }
        return Int64(date.timeIntervalSince1970 * 1000)
    }

    private static func queryEncoded(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
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
        _ path: String, _ body: [UInt8], method: String = "POST", reserved: Bool = false, success: ([String: Any], Int) -> DestinationOutcome<Value>
    ) async throws -> DestinationOutcome<Value> {
        if !reserved { try await limiter.acquire() }
        var headers = [(name: "Access-Token", value: accessToken())]
        if !body.isEmpty { headers.append((name: "Content-Type", value: "application/json")) }
        let request = OutgoingRequest(method: method, url: settings.baseURL + path, headers: headers, body: body, timeout: settings.requestTimeout)
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
        let failure = DestinationFailure(code: String(code), message: DestinationText.message(object["message"]), httpStatus: 200)
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
