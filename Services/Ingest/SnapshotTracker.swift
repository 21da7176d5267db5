/// Counts the members of each open snapshot, to decide at its end whether it is complete.
///
/// A snapshot of one audience arrives on one upstream partition (the CDP keys it by audience), so the
/// replica that owns that partition sees all of it. If the partition moves mid-snapshot, or the process
/// restarts, the new owner never saw the begin: the end is then incomplete and causes no removals, which is
/// the safe answer (DESIGN "Upstream input").
struct SnapshotTracker: Sendable {
    private struct Open: Sendable {
        let snapshotID: String
        let sourcePartition: Int32
        var counted: Int64 = 0
    }

    /// What a snapshot end concluded.
    struct Verdict: Sendable, Equatable {
        let receivedMembers: Int64
        let complete: Bool
    }

    private var open: [String: Open] = [:]

    mutating func begin(audienceID: String, snapshotID: String, sourcePartition: Int32) {
        open[audienceID] = Open(snapshotID: snapshotID, sourcePartition: sourcePartition)
    }

    /// Counts a member when it belongs to the audience's open snapshot.
    mutating func member(audienceID: String, snapshotID: String) {
        guard open[audienceID]?.snapshotID == snapshotID else { return }
        open[audienceID]!.counted += 1
    }

    /// What closing the snapshot would conclude: complete only when its begin was seen here and the counts agree.
    func verdict(audienceID: String, snapshotID: String, declaredMembers: Int64) -> Verdict {
        guard let snapshot = open[audienceID], snapshot.snapshotID == snapshotID else {
            return Verdict(receivedMembers: 0, complete: false)
        }
        return Verdict(receivedMembers: snapshot.counted, complete: snapshot.counted == declaredMembers)
    }

    /// Closes the snapshot and returns its verdict.
    mutating func end(audienceID: String, snapshotID: String, declaredMembers: Int64) -> Verdict {
        let result = verdict(audienceID: audienceID, snapshotID: snapshotID, declaredMembers: declaredMembers)
        if open[audienceID]?.snapshotID == snapshotID { open[audienceID] = nil }
        return result
    }

    /// Forgets snapshots that arrived on partitions this replica no longer owns.
    mutating func forget(sourcePartitions: Set<Int32>) {
        open = open.filter { !sourcePartitions.contains($0.value.sourcePartition) }
    }
}
