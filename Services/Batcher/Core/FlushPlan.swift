import Kafka
import Stage
import Wire

/// One changelog write: a member's or an audience's state under its key, or a tombstone (nil).
public struct ChangelogRecord: Sendable, Equatable {
    public let key: [UInt8]
    public let state: BatcherState?
}

/// What one flush of one audience writes, in three steps, each acknowledged before the next:
/// 1. `intent`: the changelog records of the members it changes, each marked with the flush's number and
///    what it held before (and of members whose snapshot presence alone changed);
/// 2. `batches`: the operations (within a scope, removals before adds);
/// 3. `settle`: tombstones of the members it removed, then the audience's state confirming the flush.
/// Then the input batches it covered are finished, so their offsets can be stored.
///
/// A crash anywhere leaves a changelog from which a restore knows, member by member, whether the
/// destination may hold the old identifiers or the new (an unconfirmed flush): those members are sent
/// again as a removal of both and an add of what they should hold, which is right in every case.
public struct FlushPlan: Sendable {
    public let connectionID: String
    public let audienceID: String
    public let destination: Destination
    public internal(set) var intent: [ChangelogRecord] = []
    public internal(set) var batches: [Batch] = []
    public internal(set) var settle: [ChangelogRecord] = []
    /// Input batches whose records this flush covers; each holds one count for it.
    public internal(set) var completions: [BatchCompletion] = []
    /// The last input record the flush covers, for the `cohortsync-trace` header.
    public internal(set) var trace = SourcePosition()

    /// Operations (users) per batch operation, for metrics.
    public var operations: [BatchOperation: Int] {
        batches.reduce(into: [:]) { $0[$1.operation, default: 0] += max($1.users.count, $1.operation == .deleteAudience ? 1 : 0) }
    }

    /// Every changelog record in the order written (intent, then settle).
    public var changelog: [ChangelogRecord] { intent + settle }

    /// Appends the batches to `out`, keyed `connection/audience` so one audience's batches stay in order on
    /// one partition of the destination's batches topic.
    public func encodeBatches(into out: inout OutgoingRecords) {
        guard !batches.isEmpty, let topic = TopicNames.batches(for: destination) else { return }
        let headers = out.standardHeaders(for: Batch.self, trace: trace)
        let key = Array("\(connectionID)/\(audienceID)".utf8)
        for batch in batches {
            out.append(batch, topic: topic, placement: .byKey, headers: headers, key: key)
        }
    }

    /// Appends `records` (this plan's `intent` or `settle`) to `out`, on the changelog partition with the
    /// input partition's index.
    public func encode(_ records: [ChangelogRecord], into out: inout OutgoingRecords, partition: Int32) {
        guard !records.isEmpty else { return }
        let headers = out.standardHeaders(for: BatcherState.self, trace: trace)
        for record in records {
            if let state = record.state {
                out.append(state, topic: TopicNames.batcherState, placement: .partition(partition), headers: headers, key: record.key)
            } else {
                out.appendTombstone(topic: TopicNames.batcherState, placement: .partition(partition)) { $0.append(contentsOf: record.key) }
            }
        }
    }
}
