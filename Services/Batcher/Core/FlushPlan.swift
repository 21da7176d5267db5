import Kafka
import Stage
import Wire

/// One changelog write: a member's or an audience's state under its key, or a tombstone (nil).
public struct ChangelogRecord: Sendable, Equatable {
    public let key: [UInt8]
    public let state: BatcherState?
}

/// What one flush of one audience writes, in this order: its batches (within a scope, removals before
/// adds), then, once the broker has them, the changelog records describing the state they lead to; then
/// the input batches it covered are finished, so their offsets can be stored.
///
/// Batches before changelog: a crash between the two replays the inputs against the old state and sends
/// the same operations again (harmless at the destination), never a state that claims operations the
/// destination did not get.
public struct FlushPlan: Sendable {
    public let connectionID: String
    public let audienceID: String
    public let destination: Destination
    public internal(set) var batches: [Batch] = []
    public internal(set) var changelog: [ChangelogRecord] = []
    /// Input batches whose records this flush covers; each holds one count for it.
    public internal(set) var completions: [BatchCompletion] = []
    /// The last input record the flush covers, for the `cohortsync-trace` header.
    public internal(set) var trace = SourcePosition()

    /// Operations (users) per batch operation, for metrics.
    public var operations: [BatchOperation: Int] {
        batches.reduce(into: [:]) { $0[$1.operation, default: 0] += max($1.users.count, $1.operation == .deleteAudience ? 1 : 0) }
    }

    /// Appends the batches to `out`, keyed `connection/audience` so one audience's batches stay in order on
    /// one partition of the destination's batches topic.
    public func encodeBatches(into out: inout OutgoingRecords) {
        guard !batches.isEmpty else { return }
        let topic = destination == .x ? TopicNames.batchesX : TopicNames.batchesTikTok
        let headers = out.standardHeaders(for: Batch.self, trace: trace)
        let key = Array("\(connectionID)/\(audienceID)".utf8)
        for batch in batches {
            out.append(batch, topic: topic, placement: .byKey, headers: headers, key: key)
        }
    }

    /// Appends the changelog records to `out`, on the changelog partition with the input partition's index.
    public func encodeChangelog(into out: inout OutgoingRecords, partition: Int32) {
        guard !changelog.isEmpty else { return }
        let headers = out.standardHeaders(for: BatcherState.self, trace: trace)
        for record in changelog {
            if let state = record.state {
                out.append(state, topic: TopicNames.batcherState, placement: .partition(partition), headers: headers, key: record.key)
            } else {
                out.appendTombstone(topic: TopicNames.batcherState, placement: .partition(partition)) { $0.append(contentsOf: record.key) }
            }
        }
    }
}
