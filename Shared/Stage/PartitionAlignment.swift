import Wire

/// The rule that `members` and `hashed` have the same partition count (DESIGN "Delivery semantics"):
/// normalize writes each derived record to the partition index it read from, so a mismatch would send
/// records to partitions the batcher does not expect, or to none at all.
public enum PartitionAlignment {
    /// nil when aligned; otherwise the message a stage prints before refusing to start.
    public static func mismatch(members: Int32, hashed: Int32) -> String? {
        mismatch(TopicNames.members, members, TopicNames.hashed, hashed, why: "they must match so markers stay in order")
    }

    /// nil when aligned; otherwise why the batcher refuses to start: each input partition's state lives at
    /// the same index of the changelog.
    public static func mismatch(hashed: Int32, batcherState: Int32) -> String? {
        mismatch(TopicNames.hashed, hashed, TopicNames.batcherState, batcherState, why: "each partition's state lives at the same index")
    }

    /// `follower` must have `reference`'s partition count; the message says how to recreate it.
    private static func mismatch(_ reference: String, _ expected: Int32, _ follower: String, _ actual: Int32, why: String) -> String? {
        guard expected != actual else { return nil }
        return "\(reference) has \(expected) partitions but \(follower) has \(actual); \(why). "
            + "Recreate \(follower) with \(expected) partitions (cohortsync topics check shows the layout)."
    }
}
