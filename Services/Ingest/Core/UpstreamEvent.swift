import Wire

/// One upstream record understood: what happened, to which audience and user.
enum UpstreamEvent: Sendable, Equatable {
    /// A user entered or left an audience, or is listed in a snapshot.
    case member(UpstreamMember)
    case snapshotBegin(audienceID: String, snapshotID: String)
    case snapshotEnd(audienceID: String, snapshotID: String, declaredMembers: Int64)
    case lifecycle(AudienceLifecycle)

    var audienceID: String {
        switch self {
        case .member(let member): member.audienceID
        case .snapshotBegin(let audience, _), .snapshotEnd(let audience, _, _): audience
        case .lifecycle(let lifecycle): lifecycle.audienceID
        }
    }

    /// A membership change (not a snapshot's listing) that says the user denies consent for advertising
    /// (`consent.ads: false`): what goes on from an audience no connection syncs.
    var changeDenyingConsent: Bool {
        guard case .member(let member) = self else { return false }
        return member.fields.consent == .denied && member.fields.action != .snapshotMember
    }
}

/// A member change as ingest forwards it: its fields' text in the record's `FieldText`, and the two ids ingest
/// itself looks up (which syncs the audience, which snapshot the member counts for) as strings.
struct UpstreamMember: Sendable, Equatable {
    let audienceID: String
    let snapshotID: String
    /// Every text field as a range of the record's `FieldText`.
    var fields: MemberChangeFields
}

/// Why an upstream record went to the DLQ: a stable reason and a detail naming the field.
struct IngestRefusal: Error, Sendable, Equatable {
    /// `too-large`, `invalid-json`, `invalid-field`, `unknown-type`, `missing-audience-id`, `missing-user`,
    /// `invalid-action`, `missing-snapshot-id`.
    let reason: String
    let detail: String
}
