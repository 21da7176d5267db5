import Foundation
import Kafka
import Observability
import Stage
import Synchronization
import Wire

/// `cohortsync holds list|confirm|discard`: the snapshot removals the batcher held (over a sync's
/// `maxRemovalFraction`), and the operator's decision on them.
///
/// The list is read from the batcher's changelog, where each partition keeps its audiences' state; a
/// decision is a `HoldDecision` record written to every partition of `cohortsync.hashed.v1`, so each
/// batcher partition applies it in order with its records: no side channel.
struct HoldsCommand {
    /// One held removal: an audience of a connection, the snapshot, and what the partitions hold back.
    struct Hold: Equatable {
        let connectionID: String
        let audienceID: String
        let snapshotID: String
        var partitions: Int
        var removals: Int64
    }

    let kafka: KafkaConfiguration
    let logger: Logger

    /// The held removals, one line per (connection, audience, snapshot), from every changelog partition
    /// (read in one pass).
    func list() async throws -> [Hold] {
        let changelogs = try TopicScan.partitions(of: TopicNames.batcherState, kafka: kafka, logger: logger)
        // The latest state per partition and audience key, filled by the reading thread.
        let states = Mutex<[TopicPartition: [[UInt8]: AudienceState]]>([:])
        _ = try await PartitionReader.readAll(changelogs, configuration: kafka, logger: logger) { changelog, entries in
            for entry in entries {
                guard let key = entry.key, case .audience = BatcherState.parseKey(key) else { continue }
                // A record this version cannot read is left out, as the batcher leaves it at restore.
                let state = entry.value.flatMap { try? BatcherState(serializedBytes: $0) }
                states.withLock { $0[changelog, default: [:]][key] = state.flatMap { if case .audience(let audience) = $0 { audience } else { nil } } }
            }
        }
        var holds: [String: Hold] = [:]
        for state in states.withLock({ $0.values.flatMap(\.values) }) where state.heldSequence != 0 {
            let id = [state.connectionID, state.audienceID, state.heldSnapshotID].joined(separator: "\u{1F}")
            holds[id, default: Hold(connectionID: state.connectionID, audienceID: state.audienceID, snapshotID: state.heldSnapshotID, partitions: 0, removals: 0)]
                .partitions += 1
            holds[id]!.removals += state.heldRemovals
        }
        return holds.values.sorted { ($0.connectionID, $0.audienceID, $0.snapshotID) < ($1.connectionID, $1.audienceID, $1.snapshotID) }
    }

    /// Writes the decision to every partition of `hashed`; returns the number of partitions written.
    func decide(_ action: HoldAction, connectionID: String, audienceID: String, snapshotID: String) async throws -> Int {
        let count = Int32(try TopicScan.partitions(of: TopicNames.hashed, kafka: kafka, logger: logger).count)
        let decision = HoldDecision(
            connectionID: connectionID, audienceID: audienceID, action: action, snapshotID: snapshotID,
            decidedAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1_000))
        let trace = SourcePosition(topic: "cohortsync-cli", partition: 0, offset: 0)
        var out = OutgoingRecords()
        let headers = out.standardHeaders(for: HashedRecord.self, trace: trace)
        for partition in 0..<count {
            out.append(HashedRecord.hold(decision), topic: TopicNames.hashed, placement: .partition(partition), headers: headers, key: Array("\(audienceID)/".utf8))
        }
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        try await producer.deliver(out)
        try await producer.shutdown()
        return Int(count)
    }

    static func render(_ holds: [Hold]) -> [String] {
        guard !holds.isEmpty else { return ["no held removals"] }
        return ["connection\taudience\tsnapshot\tpartitions\tremovals"]
            + holds.map { "\($0.connectionID)\t\($0.audienceID)\t\($0.snapshotID)\t\($0.partitions)\t\($0.removals)" }
    }
}
