import Kafka
import Observability
import Synchronization
import Wire

/// What the batcher's changelog (`cohortsync.batcher-state.v1`) says now, read whole: each audience's state
/// and, per member, the identifiers the batcher sent the destination and has not withdrawn. The latest
/// record of each key counts; a record this version cannot read is counted and left out, as the batcher
/// itself does at restore.
struct ChangelogSnapshot {
    /// Per (connection, audience), one state per changelog partition that holds the audience.
    var audiences: [AudienceKey: [AudienceState]] = [:]
    /// Per member, the identifiers sent; members holding none are left out.
    var sent: [MemberKey: Set<HashedIdentifier>] = [:]
    var unreadable = 0

    struct AudienceKey: Hashable, Comparable {
        let connection: String
        let audience: String

        static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.connection, lhs.audience) < (rhs.connection, rhs.audience)
        }
    }

    struct MemberKey: Hashable {
        let audience: AudienceKey
        let user: String
    }

    /// Whether the audience was deleted upstream (and not created again) by every partition that knows it.
    func isDeleted(_ key: AudienceKey) -> Bool {
        guard let states = audiences[key], !states.isEmpty else { return false }
        return states.allSatisfy(\.deleted)
    }

    /// Reads the whole changelog; with `only`, keeps (and decodes) just the records of those audiences,
    /// which makes a replay's read mostly key parsing.
    static func read(kafka: KafkaConfiguration, logger: Logger, only: Set<AudienceKey>? = nil) async throws -> ChangelogSnapshot {
        let partitions = try TopicScan.partitions(of: TopicNames.batcherState, kafka: kafka, logger: logger)
        let state = Mutex<(members: [MemberKey: Set<HashedIdentifier>], audiences: [[UInt8]: AudienceState?], unreadable: Int)>(([:], [:], 0))
        _ = try await PartitionReader.readAll(partitions, configuration: kafka, logger: logger) { partition, entries in
            var members: [(MemberKey, Set<HashedIdentifier>?)] = []
            var audiences: [([UInt8], AudienceState?)] = []
            var unreadable = 0
            for entry in entries {
                guard let key = entry.key, let parsed = BatcherState.parseKey(key) else { continue }
                let audienceKey: AudienceKey
                switch parsed {
                case .member(let connection, let audience, _), .audience(let connection, let audience):
                    audienceKey = AudienceKey(connection: connection, audience: audience)
                case .withdrawal:
                    // A withdrawal's time says nothing of what the destination holds.
                    continue
                }
                if let only, !only.contains(audienceKey) { continue }
                let decoded: BatcherState?
                do {
                    decoded = try entry.value.map { try BatcherState(serializedBytes: $0) }
                } catch {
                    unreadable += 1
                    continue
                }
                if case .member(_, _, let user) = parsed {
                    let held: Set<HashedIdentifier>? = if case .member(let member)? = decoded, !member.sent.isEmpty { Set(member.sent) } else { nil }
                    members.append((MemberKey(audience: audienceKey, user: user), held))
                } else {
                    // Keyed by partition too: an audience's state is kept per changelog partition.
                    let audience: AudienceState? = if case .audience(let audience)? = decoded { audience } else { nil }
                    audiences.append((Array("\(partition.partition)/".utf8) + key, audience))
                }
            }
            state.withLock { state in
                for (key, held) in members { state.members[key] = held }
                for (key, audience) in audiences { state.audiences[key] = audience }
                state.unreadable += unreadable
            }
        }
        return state.withLock { state in
            var snapshot = ChangelogSnapshot(sent: state.members, unreadable: state.unreadable)
            for audience in state.audiences.values.compactMap({ $0 }) {
                snapshot.audiences[AudienceKey(connection: audience.connectionID, audience: audience.audienceID), default: []].append(audience)
            }
            return snapshot
        }
    }
}
