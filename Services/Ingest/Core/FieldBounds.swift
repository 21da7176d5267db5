import Wire

/// The longest value ingest accepts in each field, in UTF-8 bytes.
///
/// Every record ingest writes is built from these fields only, so together they bound the size of a
/// `members` record (a few KiB) far below any stage's output limit: an oversized field is refused here,
/// naming it, instead of failing a produce further down. docs/input-formats.md lists them.
enum FieldBounds {
    /// `audience.id`, `properties.audience_key`, `context.personas.computation_key`.
    static let audienceID = TextBounds.audienceID
    /// `audience.name`.
    static let audienceName = TextBounds.audienceName
    /// `snapshot`.
    static let snapshotID = TextBounds.snapshotID
    /// `user.id`, Segment's `userId`: the CDP's user key.
    static let userID = 1024
    /// `email` (RFC 5321: 64 bytes of local part, `@`, 255 of domain).
    static let email = 320
    /// `phone`, `idfa`, `gaid`, `android_id`, `x_handle`, `x_id`, Segment's `advertisingId`: room for a
    /// 64-character SHA-256 digest, punctuation and an extension.
    static let identifier = 128

    /// The bound of the user's identifier of `kind`: `email`'s for an email, `identifier` for the others.
    static func of(_ kind: IdentifierType) -> Int { kind == .email ? email : identifier }
    /// `type`, `action`, `event`, `timestamp`, `context.device.type`: short words and times.
    static let word = 64
}
