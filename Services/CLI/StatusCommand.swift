import Kafka
import Observability
import Synchronization
import Wire

/// `cohortsync status`: per synced audience, what the pipeline's own topics say: its state in the batcher
/// (active, deleted, a held removal), the members the destination holds by the batcher's changelog, the
/// destination audiences the uploaders created, and the last upload result.
///
/// Everything is read from Kafka, so it works from anywhere the brokers are reachable and needs no stage's
/// address; what exists only in a running stage's memory (pending operations, paused connections) is on its
/// `/metrics` (`cohortsync_batcher_pending_operations`, `cohortsync_upload_connection_paused`).
struct StatusCommand {
    /// What is known of one (connection, audience).
    struct Row {
        var state = "-"
        var members = 0
        var destinationAudiences: [String] = []
        var lastResult: BatchResult?
        var results = 0
        var failedResults = 0
    }

    let kafka: KafkaConfiguration
    let logger: Logger

    func rows() async throws -> [String: Row] {
        async let changelog = readChangelog()
        async let results = readResults()
        async let mappings = AudiencesCommand(kafka: kafka, logger: logger).mappings()
        var rows = try await changelog
        for result in try await results {
            let key = Self.key(result.connectionID, result.audienceID)
            rows[key, default: Row()].results += 1
            if result.status != .succeeded { rows[key]!.failedResults += 1 }
            if (rows[key]!.lastResult?.completedAtMilliseconds ?? -1) <= result.completedAtMilliseconds { rows[key]!.lastResult = result }
        }
        for mapping in try await mappings where !mapping.deleted {
            rows[Self.key(mapping.connectionID, mapping.audienceID), default: Row()].destinationAudiences.append(
                mapping.scope.isEmpty ? mapping.destinationAudienceID : "\(mapping.scope):\(mapping.destinationAudienceID)")
        }
        return rows
    }

    static func key(_ connection: String, _ audience: String) -> String {
        "\(connection)\u{1F}\(audience)"
    }

    static func table(_ rows: [String: Row]) -> Table {
        var table = Table(columns: ["connection", "audience", "state", "members", "destination_audiences", "last_result", "results", "failed"])
        for (key, row) in rows.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            let last = row.lastResult.map { "\(Table.time($0.completedAtMilliseconds)) \(Self.name($0.status)) \($0.succeeded)/\($0.attempted)" } ?? "-"
            table.rows.append([
                parts[0], parts.count > 1 ? parts[1] : "", row.state, String(row.members),
                row.destinationAudiences.isEmpty ? "-" : row.destinationAudiences.sorted().joined(separator: ","), last, String(row.results),
                String(row.failedResults),
            ])
        }
        return table
    }

    private static func name(_ status: BatchStatus) -> String {
        switch status {
        case .succeeded: "succeeded"
        case .partial: "partial"
        case .failed: "failed"
        case .unspecified: "unknown"
        }
    }

    /// Audience states and member counts from the whole changelog: the latest record of each key counts.
    private func readChangelog() async throws -> [String: Row] {
        let partitions = try TopicScan.partitions(of: TopicNames.batcherState, kafka: kafka, logger: logger)
        // Per key, whether its latest record holds a member the destination has, or the audience's state.
        let members = Mutex<[[UInt8]: String]>([:])
        let audiences = Mutex<[[UInt8]: AudienceState?]>([:])
        _ = try await PartitionReader.readAll(partitions, configuration: kafka, logger: logger) { _, entries in
            for entry in entries {
                guard let key = entry.key else { continue }
                switch BatcherState.parseKey(key) {
                case .member(let connection, let audience, _):
                    let held = try entry.value.map { try BatcherState(serializedBytes: $0) }.flatMap { state -> Bool? in
                        if case .member(let member) = state { return !member.sent.isEmpty }
                        return nil
                    } ?? false
                    members.withLock { $0[key] = held ? Self.key(connection, audience) : nil }
                case .audience:
                    let state = try entry.value.map { try BatcherState(serializedBytes: $0) }
                    audiences.withLock { $0[key] = state.flatMap { if case .audience(let audience) = $0 { audience } else { nil } } }
                case nil:
                    continue
                }
            }
        }
        var rows: [String: Row] = [:]
        for owner in members.withLock({ Array($0.values) }) { rows[owner, default: Row()].members += 1 }
        for state in audiences.withLock({ $0.values.compactMap { $0 } }) {
            let key = Self.key(state.connectionID, state.audienceID)
            let described = state.deleted ? "deleted" : state.heldSequence != 0 ? "held (\(state.heldRemovals) removals)" : "active"
            // An audience spread over several partitions: a hold anywhere shows, then deletion, then active.
            let current = rows[key]?.state ?? "-"
            if current == "-" || current == "active" || (current == "deleted" && described.hasPrefix("held")) {
                rows[key, default: Row()].state = described
            }
        }
        return rows
    }

    private func readResults() async throws -> [BatchResult] {
        let partitions = try TopicScan.partitions(of: TopicNames.results, kafka: kafka, logger: logger)
        let results = Mutex<[BatchResult]>([])
        _ = try await PartitionReader.readAll(partitions, configuration: kafka, logger: logger) { _, entries in
            let decoded = entries.compactMap { $0.value.flatMap { try? BatchResult(serializedBytes: $0) } }
            results.withLock { $0 += decoded }
        }
        return results.withLock { $0 }
    }
}
