import Wire

/// One upstream record understood: what happened, to which audience and user.
enum UpstreamEvent: Sendable, Equatable {
    /// A user entered or left an audience, or is listed in a snapshot.
    case member(MemberChange)
    case snapshotBegin(audienceID: String, snapshotID: String)
    case snapshotEnd(audienceID: String, snapshotID: String, declaredMembers: Int64)
    case lifecycle(AudienceLifecycle)

    var audienceID: String {
        switch self {
        case .member(let change): change.audienceID
        case .snapshotBegin(let audience, _), .snapshotEnd(let audience, _, _): audience
        case .lifecycle(let lifecycle): lifecycle.audienceID
        }
    }
}

/// Why an upstream record went to the DLQ: a stable reason and a detail naming the field.
struct IngestRefusal: Error, Sendable, Equatable {
    /// `too-large`, `invalid-json`, `invalid-field`, `unknown-type`, `missing-audience-id`, `missing-user`,
    /// `invalid-action`, `missing-snapshot-id`.
    let reason: String
    let detail: String
}
