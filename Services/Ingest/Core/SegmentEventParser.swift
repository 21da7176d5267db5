import Wire

/// Segment's audience events (Engage/Personas): track `Audience Entered` / `Audience Exited` and identify
/// calls whose traits carry `<audience_key>: true|false`.
///
/// Fields are type-checked exactly as in the native format: a value of the wrong type is refused naming its
/// path, never silently dropped (an email sent as a number would otherwise vanish from the audience).
enum SegmentEventParser {
    /// Validates one Segment event.
    /// - Throws: `IngestRefusal` naming the field that is missing or wrong.
    static func event(_ root: FieldReader, text: inout FieldText) throws(IngestRefusal) -> UpstreamEvent {
        let context = try root.object("context")
        let computationKey = try context?.object("personas")?.string("computation_key", bound: FieldBounds.audienceID)
        let contextTraits = try context?.object("traits")
        let traits = try root.object("traits") ?? contextTraits
        let action: MemberAction
        let audienceID: String
        switch try root.string("type", bound: FieldBounds.word) {
        case "track":
            switch try root.string("event", bound: FieldBounds.word) {
            case "Audience Entered": action = .enter
            case "Audience Exited": action = .exit
            default: throw IngestRefusal(reason: "unknown-type", detail: "a Segment track must be Audience Entered or Audience Exited")
            }
            // An empty audience_key is no key: the computation key stands in, as it does for an absent one.
            let audienceKey = try root.object("properties")?.string("audience_key", bound: FieldBounds.audienceID)
            let key = audienceKey.flatMap { $0.isEmpty ? nil : $0 } ?? computationKey
            guard let key, !key.isEmpty else {
                throw IngestRefusal(reason: "missing-audience-id", detail: "properties.audience_key or context.personas.computation_key is required")
            }
            audienceID = key
        case "identify":
            guard let key = computationKey, !key.isEmpty else {
                throw IngestRefusal(reason: "missing-audience-id", detail: "context.personas.computation_key is required for identify")
            }
            // The trait is named after the audience: the name is data, so refusals show it as <audience_key>.
            let shown = "\(traits?.path ?? "traits").<audience_key>"
            guard let member = try traits?.bool(key, shownAs: shown) else {
                throw IngestRefusal(reason: "invalid-field", detail: "\(shown): expected true or false")
            }
            audienceID = key
            action = member ? .enter : .exit
        default:
            throw IngestRefusal(reason: "unknown-type", detail: "a Segment event must be track or identify")
        }
        // Both trait objects are read and checked; the event's own traits win over the context's.
        let email = (
            try traits?.text("email", bound: FieldBounds.email, into: &text), try contextTraits?.text("email", bound: FieldBounds.email, into: &text)
        )
        let phone = (
            try traits?.text("phone", bound: FieldBounds.identifier, into: &text),
            try contextTraits?.text("phone", bound: FieldBounds.identifier, into: &text)
        )
        var identifiers = RawIdentifierRanges()
        // An empty value is no identifier: the context's stands in, as it does for an absent one.
        func present(_ value: Range<Int>?) -> Range<Int>? { value.flatMap { $0.isEmpty ? nil : $0 } }
        if let value = present(email.0) ?? email.1 { identifiers[.email] = value }
        if let value = present(phone.0) ?? phone.1 { identifiers[.phone] = value }
        if let device = try context?.object("device"), let advertisingID = try device.text("advertisingId", bound: FieldBounds.identifier, into: &text) {
            switch try device.string("type", bound: FieldBounds.word)?.lowercased() {
            case "ios": identifiers[.idfa] = advertisingID
            case "android": identifiers[.gaid] = advertisingID
            default: break
            }
        }
        let userID = try root.text("userId", bound: FieldBounds.userID, into: &text)
        guard let key = UserKeys.key(userID: userID, identifiers: identifiers, text: &text) else {
            throw IngestRefusal(reason: "missing-user", detail: "userId or an identifier (traits.email, traits.phone, context.device.advertisingId) is required")
        }
        let time = try EventTime.milliseconds(try root.string("timestamp", bound: FieldBounds.word), field: "timestamp")
        var change = MemberChangeFields()
        change.audienceID = text.append(audienceID.utf8)
        change.userKey = key
        change.action = action
        change.identifiers = identifiers
        change.eventTimeMilliseconds = time
        return .member(UpstreamMember(audienceID: audienceID, snapshotID: "", fields: change))
    }
}
