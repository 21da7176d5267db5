import Kafka

/// Counts the members of each open snapshot, to decide at its end whether it is complete.
///
/// A snapshot of one audience arrives on one upstream partition (the CDP keys it by audience), so the
/// replica that owns that partition sees all of it. If the partition moves mid-snapshot, or the process
/// restarts, the new owner never saw the begin: the end is then incomplete and causes no removals, which is
/// the safe answer (DESIGN "Upstream input"). Sources are topic and partition: with several upstream
/// topics, partition 1 of one is not partition 1 of another. Members and ends count only from the
/// snapshot's own source, where they arrive in order behind its begin.
struct SnapshotTracker: Sendable {
    private struct Open: Sendable {
        let snapshotID: String
        let source: TopicPartition
        /// The begin record's Kafka timestamp, when the broker gave one.
        let beganAt: Int64?
        var counted: Int64 = 0
    }

    /// What a snapshot end concluded.
    struct Verdict: Sendable, Equatable {
        let receivedMembers: Int64
        let complete: Bool
    }

    private var open: [String: Open] = [:]

    mutating func begin(audienceID: String, snapshotID: String, source: TopicPartition, at time: Int64? = nil) {
        open[audienceID] = Open(snapshotID: snapshotID, source: source, beganAt: time)
    }

    /// When the audience's open snapshot began (its begin record's Kafka timestamp), if it is `snapshotID`
    /// from `source`: the time its members were true, however long the CDP takes to write them.
    func beganAt(audienceID: String, snapshotID: String, source: TopicPartition) -> Int64? {
        guard let snapshot = open[audienceID], snapshot.snapshotID == snapshotID, snapshot.source == source else { return nil }
        return snapshot.beganAt
    }

    /// Counts a member when it belongs to the audience's open snapshot and arrived from its source.
    mutating func member(audienceID: String, snapshotID: String, source: TopicPartition) {
        guard let snapshot = open[audienceID], snapshot.snapshotID == snapshotID, snapshot.source == source else { return }
        open[audienceID]!.counted += 1
    }

    /// What closing the snapshot would conclude: complete only when its begin was seen here and the counts agree.
    func verdict(audienceID: String, snapshotID: String, declaredMembers: Int64, source: TopicPartition) -> Verdict {
        guard let snapshot = open[audienceID], snapshot.snapshotID == snapshotID, snapshot.source == source else {
            return Verdict(receivedMembers: 0, complete: false)
        }
        return Verdict(receivedMembers: snapshot.counted, complete: snapshot.counted == declaredMembers)
    }

    /// Closes the snapshot and returns its verdict.
    mutating func end(audienceID: String, snapshotID: String, declaredMembers: Int64, source: TopicPartition) -> Verdict {
        let result = verdict(audienceID: audienceID, snapshotID: snapshotID, declaredMembers: declaredMembers, source: source)
        if let snapshot = open[audienceID], snapshot.snapshotID == snapshotID, snapshot.source == source { open[audienceID] = nil }
        return result
    }

    /// Forgets snapshots that arrived on partitions this replica no longer owns.
    mutating func forget(sources: Set<TopicPartition>) {
        open = open.filter { !sources.contains($0.value.source) }
    }
}
