import Foundation
import Wire

/// The CohortSync native upstream format (DESIGN "Upstream input"), one JSON object per record.
enum NativeEventParser {
    /// The wire shape; every field optional so validation can name what is missing or wrong.
    struct Payload: Decodable {
        struct Audience: Decodable {
            let id: String?
            let name: String?
        }
        struct User: Decodable {
            let id: String?
            let email: String?
            let phone: String?
            let idfa: String?
            let gaid: String?
            let android_id: String?
            let x_handle: String?
            let x_id: String?
        }
        struct Consent: Decodable {
            let ads: Bool?
        }
        let type: String?
        let audience: Audience?
        let action: String?
        let user: User?
        let consent: Consent?
        let timestamp: String?
        let snapshot: String?
        let members: Int64?
    }

    /// Decodes and validates one native record.
    static func parse(_ data: Data) -> Result<UpstreamEvent, IngestRefusal> {
        let payload: Payload
        do {
            payload = try JSONDecoder().decode(Payload.self, from: data)
        } catch let error as DecodingError {
            return .failure(describe(error))
        } catch {
            return .failure(IngestRefusal(reason: "invalid-json", detail: "the record is not JSON"))
        }
        return event(from: payload)
    }

    static func describe(_ error: DecodingError) -> IngestRefusal {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return IngestRefusal(reason: "invalid-json", detail: "the record is not a JSON object")
        case .typeMismatch(let type, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty
                ? IngestRefusal(reason: "invalid-json", detail: "the record is not a JSON object")
                : IngestRefusal(reason: "invalid-field", detail: "\(path): expected \(type == String.self ? "a string" : type == Bool.self ? "true or false" : type == Int64.self ? "an integer" : "an object")")
        case .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            return IngestRefusal(reason: "invalid-field", detail: context.codingPath.map(\.stringValue).joined(separator: "."))
        @unknown default:
            return IngestRefusal(reason: "invalid-json", detail: "undecodable")
        }
    }

    static func event(from payload: Payload) -> Result<UpstreamEvent, IngestRefusal> {
        guard let type = payload.type else {
            return .failure(IngestRefusal(reason: "unknown-type", detail: "type is missing; use membership, snapshot_begin, snapshot_member, snapshot_end or audience"))
        }
        guard let audienceID = payload.audience?.id, !audienceID.isEmpty else {
            return .failure(IngestRefusal(reason: "missing-audience-id", detail: "audience.id is required"))
        }
        let time: Int64
        if let text = payload.timestamp {
            guard let date = try? Date(text, strategy: .iso8601) else {
                return .failure(IngestRefusal(reason: "invalid-field", detail: "timestamp: expected ISO 8601, for example 2026-11-23T19:00:00Z"))
            }
            time = Int64(date.timeIntervalSince1970 * 1000)
        } else {
            time = 0
        }
        switch type {
        case "membership", "snapshot_member":
            let action: MemberAction
            if type == "membership" {
                switch payload.action {
                case "enter": action = .enter
                case "exit": action = .exit
                default: return .failure(IngestRefusal(reason: "invalid-action", detail: "action must be enter or exit for membership"))
                }
            } else {
                action = .snapshotMember
            }
            let snapshot = payload.snapshot ?? ""
            if action == .snapshotMember, snapshot.isEmpty {
                return .failure(IngestRefusal(reason: "missing-snapshot-id", detail: "snapshot is required for snapshot_member"))
            }
            guard let user = payload.user else {
                return .failure(IngestRefusal(reason: "missing-user", detail: "user is required for \(type)"))
            }
            let identifiers = RawIdentifiers(
                email: user.email ?? "", phone: user.phone ?? "", idfa: user.idfa ?? "", gaid: user.gaid ?? "",
                androidID: user.android_id ?? "", xHandle: user.x_handle ?? "", xID: user.x_id ?? "")
            guard let key = UserKeys.key(userID: user.id, identifiers: identifiers) else {
                return .failure(IngestRefusal(reason: "missing-user", detail: "user needs an id or at least one identifier"))
            }
            let consent: Consent = payload.consent?.ads.map { $0 ? .granted : .denied } ?? .unspecified
            return .success(.member(MemberChange(
                audienceID: audienceID, userKey: key, action: action, snapshotID: snapshot, identifiers: identifiers, consent: consent,
                eventTimeMilliseconds: time)))
        case "snapshot_begin", "snapshot_end":
            guard let snapshot = payload.snapshot, !snapshot.isEmpty else {
                return .failure(IngestRefusal(reason: "missing-snapshot-id", detail: "snapshot is required for \(type)"))
            }
            if type == "snapshot_begin" { return .success(.snapshotBegin(audienceID: audienceID, snapshotID: snapshot)) }
            guard let members = payload.members, members >= 0 else {
                return .failure(IngestRefusal(reason: "invalid-field", detail: "members: snapshot_end needs the member count"))
            }
            return .success(.snapshotEnd(audienceID: audienceID, snapshotID: snapshot, declaredMembers: members))
        case "audience":
            let event: AudienceEvent
            switch payload.action {
            case "created": event = .created
            case "renamed": event = .renamed
            case "deleted": event = .deleted
            default: return .failure(IngestRefusal(reason: "invalid-action", detail: "action must be created, renamed or deleted for audience"))
            }
            return .success(.lifecycle(AudienceLifecycle(audienceID: audienceID, name: payload.audience?.name ?? "", event: event, eventTimeMilliseconds: time)))
        default:
            return .failure(IngestRefusal(reason: "unknown-type", detail: "type must be membership, snapshot_begin, snapshot_member, snapshot_end or audience"))
        }
    }
}
