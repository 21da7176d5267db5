/// The internal topics of DESIGN §2. Every stage uses these names; none spells them itself.
public enum TopicNames {
    /// Raw identities from ingest, keyed `audienceId/userKey`.
    public static let members = "cohortsync.members.v1"
    /// Normalized and hashed members, one per (connection, audience, user); same partition count as `members`.
    public static let hashed = "cohortsync.hashed.v1"
    /// API-sized batches for the X uploader, keyed `connectionId/audienceId`.
    public static let batchesX = "cohortsync.batches.x.v1"
    /// API-sized batches for the TikTok uploader, keyed `connectionId/audienceId`.
    public static let batchesTikTok = "cohortsync.batches.tiktok.v1"
    /// What each batch did.
    public static let results = "cohortsync.results.v1"
    /// What was refused, redacted, with the reason.
    public static let deadLetters = "cohortsync.dlq.v1"
    /// Compacted changelog of the batcher's membership store.
    public static let batcherState = "cohortsync.batcher-state.v1"
    /// Compacted: our audience → destination audience id, per connection.
    public static let audiences = "cohortsync.audiences.v1"

    /// The batches topic a destination's uploader consumes.
    public static func batches(for destination: Destination) -> String? {
        switch destination {
        case .x: batchesX
        case .tiktok: batchesTikTok
        case .unspecified: nil
        }
    }

    /// Topics that hold latest-value-per-key state and use `cleanup.policy=compact`.
    public static let compacted: Set<String> = [batcherState, audiences]
}
