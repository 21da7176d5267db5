/// The kinds of identifier CohortSync forwards (DESIGN §5).
public enum IdentifierType: Int32, ProtoEnum {
    case unspecified = 0, email, phone, idfa, gaid, androidID, xHandle, xID
}

/// Advertising consent as the upstream event stated it.
public enum Consent: Int32, ProtoEnum {
    /// No consent flag on the event: allowed.
    case unspecified = 0
    case granted, denied
}

/// What happened to a member of an audience.
public enum MemberAction: Int32, ProtoEnum {
    case unspecified = 0, enter, exit, snapshotMember, consentWithdrawn
}

/// Whether a snapshot marker opens or closes a snapshot.
public enum SnapshotPhase: Int32, ProtoEnum {
    case unspecified = 0, begin, end
}

/// Lifecycle events of an upstream audience.
public enum AudienceEvent: Int32, ProtoEnum {
    case unspecified = 0, created, renamed, deleted
}

/// The ad platforms CohortSync uploads to.
public enum Destination: Int32, ProtoEnum {
    case unspecified = 0, x, tiktok
}

/// What a batch asks the destination to do.
public enum BatchOperation: Int32, ProtoEnum {
    case unspecified = 0, add, remove, deleteAudience
}

/// How a batch ended at the destination.
public enum BatchStatus: Int32, ProtoEnum {
    case unspecified = 0, succeeded, partial, failed
}
