import Foundation
import JSON
import Observability
import Runtime

/// The TikTok Business API v1.3 partner-segment subset, under `/open_api/v1.3/`: always HTTP 200 with
/// `{code, message, request_id, data}`, where only `code == 0` is success (DESIGN §6).
struct TikTokAPI: Sendable {
    struct Limits: Sendable {
        var maxUsersPerRequest = 10_000
        var requestsPerWindow = 600
        var windowSeconds: Int64 = 60
        var maxNameLength = 128
    }

    /// The `id_schema` names the sandbox accepts.
    static let schemas: Set<String> = ["EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "AAID_SHA256"]

    let store: SandboxStore
    let accessToken: String
    let limits: Limits
    let limiter: FixedWindowRateLimiter
    let operations: UserOperationCounter
    let now: @Sendable () -> Int64

    init(store: SandboxStore, accessToken: String, limits: Limits, metrics: MetricsRegistry, now: @escaping @Sendable () -> Int64) {
        self.store = store
        self.operations = UserOperationCounter(metrics: metrics, api: .tiktok)
        self.accessToken = accessToken
        self.limits = limits
        self.limiter = FixedWindowRateLimiter(limit: limits.requestsPerWindow, windowSeconds: limits.windowSeconds)
        self.now = now
    }

    static func answer(_ code: Int, _ message: String, data: [String: Any] = [:]) -> HTTPResponse {
        SandboxJSON.response(200, ["code": code, "message": message, "request_id": UUID().uuidString.lowercased(), "data": data])
    }

    func handle(_ request: HTTPRequest, fault: InjectedFault?) -> HTTPResponse {
        if case .error(let code) = fault { return Self.answer(code, "injected fault") }
        guard fault != .tokenRevoked, request.header("Access-Token") == accessToken else {
            return Self.answer(40105, "The access token is invalid or has been revoked. Get a new token.")
        }
        if fault == .rateLimited || !limiter.take(accessToken, now: now()).allowed {
            return Self.answer(40100, "Too many requests. Please retry in some time.")
        }
        let path = request.path.hasSuffix("/") ? String(request.path.dropLast()) : request.path
        if path == "/open_api/v1.3/dmp/custom_audience/list" || path == "/open_api/v1.3/dmp/custom_audience/get" {
            guard request.method == "GET" else { return Self.answer(40002, "\(request.method) \(request.path) takes GET") }
            return path.hasSuffix("list") ? list(request) : details(request)
        }
        guard request.method == "POST" else {
            return Self.answer(40002, "\(request.method) \(request.path) is not part of the sandbox's TikTok subset; use POST")
        }
        switch path {
        case "/open_api/v1.3/segment/audience":
            do {
                guard let object = try SandboxJSON.parse(request.body) as? [String: Any] else {
                    return Self.answer(40002, "the request body must be a JSON object")
                }
                return audience(object)
            } catch {
                return Self.answer(40002, error.message)
            }
        case "/open_api/v1.3/segment/mapping":
            // Up to 10,000 rows: read once by the byte-level reader into a flat index, no object per value.
            guard let document = try? JSONReader.document(request.body) else { return Self.answer(40002, "the request body is not valid JSON") }
            guard document.kind(document.root) == .object else { return Self.answer(40002, "the request body must be a JSON object") }
            return mapping(document)
        default: return Self.answer(40002, "no route \(request.path) in the sandbox's TikTok subset")
        }
    }

    private func audience(_ body: [String: Any]) -> HTTPResponse {
        guard let advertiser = body["advertiser_id"] as? String, !advertiser.isEmpty else {
            return Self.answer(40002, "advertiser_id is required")
        }
        switch body["action"] as? String {
        case "create":
            guard let name = body["custom_audience_name"] as? String, !name.isEmpty else {
                return Self.answer(40002, "custom_audience_name is required to create an audience")
            }
            guard name.count <= limits.maxNameLength else {
                return Self.answer(40002, "custom_audience_name is \(name.count) characters; at most \(limits.maxNameLength)")
            }
            guard let created = store.create(api: .tiktok, account: advertiser, name: name, description: "") else {
                return Self.answer(50000, "the audience could not be created")
            }
            return Self.answer(0, "OK", data: ["audience_id": created.id])
        case "delete":
            guard let id = body["delete_audience_id"] as? String else {
                return Self.answer(40002, "delete_audience_id is required to delete an audience")
            }
            guard store.delete(api: .tiktok, account: advertiser, id: id) else {
                return Self.answer(40002, "audience \(id) does not exist for advertiser \(advertiser)")
            }
            return Self.answer(0, "OK")
        default:
            return Self.answer(40002, "action must be create or delete")
        }
    }

    /// `GET /dmp/custom_audience/list/?advertiser_id=&page=&page_size=`: the advertiser's audiences, oldest
    /// first, with TikTok's `create_time` (UTC, to the second) and `page_info`.
    private func list(_ request: HTTPRequest) -> HTTPResponse {
        guard let advertiser = request.queryValue("advertiser_id"), !advertiser.isEmpty else { return Self.answer(40002, "advertiser_id is required") }
        let page = request.queryValue("page").map { Int($0) } ?? 1
        let size = request.queryValue("page_size").map { Int($0) } ?? 10
        guard let page, page >= 1, let size, (1...100).contains(size) else {
            return Self.answer(40002, "page must be a whole number from 1 and page_size one from 1 to 100")
        }
        let audiences = store.audiences(api: .tiktok, account: advertiser)
        let total = audiences.count
        let slice = audiences.dropFirst(min((page - 1) * size, total)).prefix(size)
        let formatter = Self.createTimeFormat()
        return Self.answer(0, "OK", data: [
            "list": slice.map { audience -> [String: Any] in
                ["audience_id": audience.id, "name": audience.name, "audience_type": "Partner Audience",
                 "create_time": formatter.string(from: Date(timeIntervalSince1970: Double(audience.createdAtMilliseconds) / 1000))]
            },
            "page_info": ["page": page, "page_size": size, "total_number": total, "total_page": (total + size - 1) / size],
        ])
    }

    /// `GET /dmp/custom_audience/get/?advertiser_id=&custom_audience_ids=["id",...]`: each audience's
    /// `audience_details`, with `cover_num` (its members) and `is_valid` (targetable: 1,000 members or more).
    private func details(_ request: HTTPRequest) -> HTTPResponse {
        guard let advertiser = request.queryValue("advertiser_id"), !advertiser.isEmpty else { return Self.answer(40002, "advertiser_id is required") }
        guard let text = request.queryValue("custom_audience_ids"), let ids = (try? SandboxJSON.parse(Array(text.utf8))) as? [String], !ids.isEmpty, ids.count <= 100 else {
            return Self.answer(40002, "custom_audience_ids must be a JSON array of 1 to 100 audience ids as strings")
        }
        let formatter = Self.createTimeFormat()
        var list: [[String: Any]] = []
        for id in ids {
            guard let audience = store.audience(api: .tiktok, account: advertiser, id: id) else {
                return Self.answer(40002, "audience \(id) does not exist for advertiser \(advertiser)")
            }
            let members = audience.members.count
            list.append(["audience_details": [
                "audience_id": audience.id, "name": audience.name, "audience_type": "Partner Audience", "cover_num": members,
                "is_valid": AudienceSizeReport.tiktokIsValid(memberCount: members),
                "create_time": formatter.string(from: Date(timeIntervalSince1970: Double(audience.createdAtMilliseconds) / 1000)),
            ]])
        }
        return Self.answer(0, "OK", data: ["list": list])
    }

    /// TikTok's time format; a formatter per call, since `DateFormatter` is not safe to share across threads.
    private static func createTimeFormat() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }

    /// The value of `key` in the body's top-level object; nil when absent or given twice.
    private static func field(_ document: JSONDocument, _ key: String) -> Int? {
        (try? document.value(key, in: document.root)) ?? nil
    }

    /// Whether the value at `index` is an array of at least one string and nothing else.
    private static func isNonEmptyStringArray(_ document: JSONDocument, _ index: Int) -> Bool {
        guard document.kind(index) == .array, !document.isEmpty(index) else { return false }
        var allStrings = true
        document.forEachElement(of: index) { element in allStrings = allStrings && document.kind(element) == .string }
        return allStrings
    }

    /// The strings of the array at `index`; nil when it is not an array of strings.
    private static func strings(_ document: JSONDocument, _ index: Int?) -> [String]? {
        guard let index, document.kind(index) == .array else { return nil }
        var strings: [String] = []
        for element in document.elements(of: index) {
            guard document.kind(element) == .string else { return nil }
            strings.append(document.string(element))
        }
        return strings
    }

    private func mapping(_ body: JSONDocument) -> HTTPResponse {
        guard let advertisers = Self.strings(body, Self.field(body, "advertiser_ids")), let advertiser = advertisers.first, advertisers.count == 1 else {
            return Self.answer(40002, "advertiser_ids must hold exactly one advertiser id")
        }
        let actionIndex = Self.field(body, "action")
        guard let actionIndex, body.kind(actionIndex) == .string, case let action = body.string(actionIndex), action == "add" || action == "delete" else {
            return Self.answer(40002, "action must be add or delete")
        }
        guard let schema = Self.strings(body, Self.field(body, "id_schema")), !schema.isEmpty, Set(schema).count == schema.count else {
            return Self.answer(40002, "id_schema must be a non-empty list of distinct id types")
        }
        if let unknown = schema.first(where: { !Self.schemas.contains($0) }) {
            return Self.answer(40002, "id_schema holds \(unknown); allowed: \(Self.schemas.sorted().joined(separator: ", "))")
        }
        let schemaKeys = schema.map { MemberSet.keyNumbers[$0]! }
        guard let rowsIndex = Self.field(body, "batch_data"), body.kind(rowsIndex) == .array else {
            return Self.answer(40002, "batch_data must be a list of rows")
        }
        let rows = body.elements(of: rowsIndex)
        guard rows.count <= limits.maxUsersPerRequest else {
            return Self.answer(40061, "batch_data holds \(rows.count) users; at most \(limits.maxUsersPerRequest) per request")
        }
        // Up to 10,000 rows: audience ids are interned by their bytes (rows nearly always name the audience the
        // row before named), so a row costs its identifiers and no string or set of its own.
        var audiences = AudienceInterner()
        var changes: [[MemberSet.Member]] = []
        var rowAudiences: [Int] = []
        var failedRows: [[String: Any]] = []
        for (rowIndex, row) in rows.enumerated() {
            guard body.kind(row) == .array, case let cells = body.elements(of: row), cells.count == schema.count else {
                return Self.answer(40002, "batch_data[\(rowIndex)] must have one slot per id_schema entry (\(schema.count))")
            }
            var member: MemberSet.Member = []
            rowAudiences.removeAll(keepingCapacity: true)
            var refusal: String?
            for (slot, cell) in cells.enumerated() {
                guard body.kind(cell) == .object else {
                    return Self.answer(40002, "batch_data[\(rowIndex)][\(slot)] must be an object ({} for an absent id)")
                }
                guard !body.isEmpty(cell) else { continue }
                let idIndex = (try? body.value("id", in: cell)) ?? nil
                let idsIndex = (try? body.value("audience_ids", in: cell)) ?? nil
                guard let idIndex, body.kind(idIndex) == .string, let idsIndex, Self.isNonEmptyStringArray(body, idsIndex) else {
                    return Self.answer(40002, "batch_data[\(rowIndex)][\(slot)] needs id and a non-empty audience_ids")
                }
                guard let identifier = MemberSet.Identifier(key: schemaKeys[slot], hex: body.stringBytes(idIndex)) else {
                    refusal = "batch_data[\(rowIndex)][\(slot)] is not a SHA-256 digest; hash ids before upload"
                    continue
                }
                member.append(identifier)
                body.forEachElement(of: idsIndex) { element in
                    let audience = audiences.number(of: body.stringBytes(element))
                    if !rowAudiences.contains(audience) { rowAudiences.append(audience) }
                }
            }
            if let refusal {
                failedRows.append(["row_index": rowIndex, "code": 40062, "message": refusal])
            } else if !member.isEmpty {
                for audience in rowAudiences {
                    while changes.count <= audience { changes.append([]) }
                    changes[audience].append(member)
                }
            }
        }
        // A row with an id that is not a digest is refused alone, as a partial success; all refused, the request is.
        if !failedRows.isEmpty, failedRows.count == rows.count {
            return Self.answer(40062, failedRows[0]["message"] as? String ?? "not a SHA-256 digest")
        }
        let touched = changes.indices.filter { !changes[$0].isEmpty }.sorted { audiences.ids[$0] < audiences.ids[$1] }
        if let missing = touched.first(where: { store.audience(api: .tiktok, account: advertiser, id: audiences.ids[$0]) == nil }) {
            return Self.answer(40002, "audience \(audiences.ids[missing]) does not exist for advertiser \(advertiser)")
        }
        var tally = UserOperationCounter.Tally()
        for audience in touched {
            let audienceID = audiences.ids[audience]
            var arrived: [MemberSet.Identifier] = []
            _ = store.updateMembers(api: .tiktok, account: advertiser, id: audienceID) { members in
                for change in changes[audience] {
                    if action == "add" {
                        let changed = members.add(change)
                        tally.add(changed: changed)
                        if changed, store.arrivals.isOn { arrived.append(change[0]) }
                    } else {
                        tally.remove(changed: members.remove(change))
                    }
                }
            }
            store.arrivals.record(arrived, api: .tiktok, audience: audienceID, at: Int64(Date().timeIntervalSince1970 * 1000))
        }
        operations.record(tally)
        if !failedRows.isEmpty {
            return Self.answer(20001, "partial success: \(failedRows.count) of \(rows.count) rows refused", data: ["failed_rows": failedRows])
        }
        return Self.answer(0, "OK")
    }
}

/// The distinct audience ids of one mapping request, numbered in order of first appearance.
struct AudienceInterner {
    private(set) var ids: [String] = []
    private var numbers: [[UInt8]: Int] = [:]
    private var last: (bytes: [UInt8], number: Int)?

    /// The number of the id whose UTF-8 is `bytes`, given a new one when it is new.
    mutating func number(of bytes: ArraySlice<UInt8>) -> Int {
        if let last, last.bytes.elementsEqual(bytes) { return last.number }
        let key = Array(bytes)
        let number: Int
        if let known = numbers[key] {
            number = known
        } else {
            number = ids.count
            ids.append(String(decoding: key, as: UTF8.self))
            numbers[key] = number
        }
        last = (key, number)
        return number
    }
}
