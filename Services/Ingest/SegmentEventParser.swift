import Config
import Foundation
import Wire

/// Segment's audience events (Engage/Personas): track `Audience Entered` / `Audience Exited` and identify
/// calls whose traits carry `<audience_key>: true|false`.
enum SegmentEventParser {
    static func parse(_ data: Data) -> Result<UpstreamEvent, IngestRefusal> {
        guard let root = try? JSONValue.parse(data), case .object = root else {
            return .failure(IngestRefusal(reason: "invalid-json", detail: "the record is not a JSON object"))
        }
        let context = root["context"]
        let computationKey = context?["personas"]?["computation_key"]?.stringValue
        let traits = root["traits"] ?? context?["traits"]
        let action: MemberAction
        let audienceID: String
        switch root["type"]?.stringValue {
        case "track":
            switch root["event"]?.stringValue {
            case "Audience Entered": action = .enter
            case "Audience Exited": action = .exit
            default: return .failure(IngestRefusal(reason: "unknown-type", detail: "a Segment track must be Audience Entered or Audience Exited"))
            }
            guard let key = root["properties"]?["audience_key"]?.stringValue ?? computationKey, !key.isEmpty else {
                return .failure(IngestRefusal(reason: "missing-audience-id", detail: "properties.audience_key or context.personas.computation_key is required"))
            }
            audienceID = key
        case "identify":
            guard let key = computationKey, !key.isEmpty else {
                return .failure(IngestRefusal(reason: "missing-audience-id", detail: "context.personas.computation_key is required for identify"))
            }
            guard case .bool(let member)? = traits?[key] else {
                return .failure(IngestRefusal(reason: "invalid-field", detail: "traits.<audience_key>: expected true or false"))
            }
            audienceID = key
            action = member ? .enter : .exit
        default:
            return .failure(IngestRefusal(reason: "unknown-type", detail: "a Segment event must be track or identify"))
        }
        func text(_ value: JSONValue?) -> String { value?.stringValue ?? "" }
        var identifiers = RawIdentifiers(
            email: text(traits?["email"] ?? context?["traits"]?["email"]), phone: text(traits?["phone"] ?? context?["traits"]?["phone"]))
        if let device = context?["device"], let advertisingID = device["advertisingId"]?.stringValue {
            switch device["type"]?.stringValue?.lowercased() {
            case "ios": identifiers.idfa = advertisingID
            case "android": identifiers.gaid = advertisingID
            default: break
            }
        }
        guard let key = UserKeys.key(userID: root["userId"]?.stringValue, identifiers: identifiers) else {
            return .failure(IngestRefusal(reason: "missing-user", detail: "userId or an identifier (traits.email, traits.phone, context.device.advertisingId) is required"))
        }
        var time: Int64 = 0
        if let stamp = root["timestamp"]?.stringValue, let date = try? Date(stamp, strategy: .iso8601) {
            time = Int64(date.timeIntervalSince1970 * 1000)
        }
        return .success(.member(MemberChange(
            audienceID: audienceID, userKey: key, action: action, identifiers: identifiers, consent: .unspecified, eventTimeMilliseconds: time)))
    }
}
