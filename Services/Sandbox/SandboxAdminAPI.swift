import Runtime
import Wire

/// `/_sandbox/...`: the state tests compare against, resets and run-time fault injection.
struct SandboxAdminAPI: Sendable {
    let store: SandboxStore
    let faults: FaultInjector
    let resetLimits: @Sendable () -> Void

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        switch (request.method, request.path) {
        case ("GET", "/_sandbox/audiences"):
            func off(_ name: String) -> Bool { request.query.contains { $0.name == name && ["false", "0", "no"].contains($0.value.lowercased()) } }
            let (listMembers, fingerprints) = (!off("members"), !off("fingerprints"))
            return SandboxJSON.response(
                200, ["audiences": store.all.map { Self.audienceJSON($0, listMembers: listMembers, fingerprint: fingerprints) }])
        case ("POST", "/_sandbox/reset"):
            store.reset()
            faults.reset()
            resetLimits()
            return SandboxJSON.response(200, ["reset": true])
        case ("GET", "/_sandbox/faults"):
            return SandboxJSON.response(200, faultsJSON())
        case ("POST", "/_sandbox/faults"):
            do {
                guard let body = try SandboxJSON.parse(request.body) as? [String: Any] else {
                    return SandboxJSON.response(400, ["error": "the body must be an object like {\"x\": {...}, \"tiktok\": {...}}"])
                }
                let plans = try Self.plans(from: body)
                for (api, plan) in plans { faults.set(plan, for: api) }
                return SandboxJSON.response(200, faultsJSON())
            } catch {
                return SandboxJSON.response(400, ["error": error.message])
            }
        case ("GET", "/_sandbox/arrivals"):
            return arrivals(request)
        default:
            return SandboxJSON.response(404, [
                "error": "no route \(request.method) \(request.path); try GET /_sandbox/audiences, POST /_sandbox/reset, GET or POST /_sandbox/faults, GET /_sandbox/arrivals"
            ])
        }
    }

    /// `GET /_sandbox/arrivals?from=N&limit=M`: the journal's entries from position N (default 0), at most M
    /// (default and at most 100,000), each `[milliseconds, destination, audience, key, digest]`, with the
    /// position to ask for next, how many entries the journal holds (`limit=0` asks for that alone) and how
    /// many arrivals a full journal left out.
    private func arrivals(_ request: HTTPRequest) -> HTTPResponse {
        guard store.arrivals.isOn else {
            return SandboxJSON.response(404, ["error": "the arrival journal is off; start the sandbox with --arrival-journal N (N arrivals kept)"])
        }
        var from = 0
        var limit = Self.maxArrivalsPerRead
        for parameter in request.query where parameter.name == "from" || parameter.name == "limit" {
            guard let value = Int(parameter.value), value >= 0 else {
                return SandboxJSON.response(400, ["error": "\(parameter.name) must be a whole number of at least 0, not '\(parameter.value)'"])
            }
            if parameter.name == "from" { from = value } else { limit = min(value, Self.maxArrivalsPerRead) }
        }
        let read = store.arrivals.read(from: from, limit: limit)
        let entries: [[Any]] = read.entries.map { entry in
            [entry.atMilliseconds, entry.api.name, entry.audience, MemberSet.keys[Int(entry.identifier.key)], entry.identifier.hex]
        }
        return SandboxJSON.response(200, [
            "arrivals": entries, "next": read.next, "recorded": read.recorded, "left_out": read.leftOut, "capacity": store.arrivals.capacity,
        ])
    }

    static let maxArrivalsPerRead = 100_000

    /// Reads `{"x": <plan>, "tiktok": <plan>}`; an API left out keeps its plan.
    static func plans(from body: [String: Any]) throws(SandboxRequestError) -> [Destination: FaultPlan] {
        if let unknown = body.keys.first(where: { Destination(name: $0) == nil }) {
            throw SandboxRequestError("\(unknown) is not an API; use x or tiktok")
        }
        var plans: [Destination: FaultPlan] = [:]
        for api in Destination.platforms where body[api.name] != nil {
            plans[api] = try FaultPlan(json: body[api.name], api: api)
        }
        return plans
    }

    private func faultsJSON() -> [String: Any] {
        Dictionary(uniqueKeysWithValues: Destination.platforms.map { ($0.name, faults.plan(for: $0).json) })
    }

    /// One audience as `GET /_sandbox/audiences` lists it; `listMembers: false` (`?members=false`) leaves out
    /// the members and keeps their count and fingerprint, for polling large audiences; `fingerprint: false`
    /// (`?fingerprints=false`) leaves out the fingerprint too, which costs a hash per member, for a checker
    /// waiting for the counts to match first.
    static func audienceJSON(_ audience: SandboxStore.Audience, listMembers: Bool = true, fingerprint: Bool = true) -> [String: Any] {
        let count = audience.members.count
        var json: [String: Any] = [
            "destination": audience.api.name, "account": audience.account, "id": audience.id, "name": audience.name, "member_count": count,
        ]
        if fingerprint { json["fingerprint"] = audience.members.fingerprint }
        if listMembers { json["members"] = audience.members.sorted }
        switch audience.api {
        case .x:
            let report = AudienceSizeReport.x(memberCount: count)
            json["reported_size"] = report.size
            json["targetable"] = report.targetable
        case .tiktok:
            json["targetable"] = AudienceSizeReport.tiktokIsValid(memberCount: count)
        case .unspecified:
            break
        }
        return json
    }
}
