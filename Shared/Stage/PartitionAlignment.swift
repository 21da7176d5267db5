import Wire

/// The rule that `members` and `hashed` have the same partition count (DESIGN "Delivery semantics"):
/// normalize writes each derived record to the partition index it read from, so a mismatch would send
/// records to partitions the batcher does not expect, or to none at all.
public enum PartitionAlignment {
    /// nil when aligned; otherwise the message a stage prints before refusing to start.
    public static func mismatch(members: Int32, hashed: Int32) -> String? {
        guard members != hashed else { return nil }
        return "\(TopicNames.members) has \(members) partitions but \(TopicNames.hashed) has \(hashed); they must match so markers stay in order. "
            + "Recreate \(TopicNames.hashed) with \(members) partitions (cohortsync topics check shows the layout)."
    }

    /// nil when aligned; otherwise why the batcher refuses to start: each input partition's state lives at
    /// the same index of the changelog.
    public static func mismatch(hashed: Int32, batcherState: Int32) -> String? {
        guard hashed != batcherState else { return nil }
        return "\(TopicNames.hashed) has \(hashed) partitions but \(TopicNames.batcherState) has \(batcherState); each partition's state lives at "
            + "the same index. Recreate \(TopicNames.batcherState) with \(hashed) partitions (cohortsync topics check shows the layout)."
    }
}
