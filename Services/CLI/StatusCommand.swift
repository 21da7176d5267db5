import Kafka
import Observability
import Synchronization
import Wire

/// `cohortsync status`: per synced audience, what the pipeline's own topics say: its state in the batcher
/// (active, deleted, a held removal), the members the batcher sent or is sending (its changelog records the
/// intent before the upload, so a batch still queued or dead-lettered counts), the destination audiences the
/// uploaders created, and the last upload result; with the configuration, also each destination audience's
/// size as its destination reports it.
///
/// The rest is read from Kafka, so it works from anywhere the brokers are reachable and needs no stage's
/// address; what exists only in a running stage's memory (pending operations, paused connections) is on its
/// `/metrics` (`cohortsync_batcher_pending_operations`, `cohortsync_upload_connection_paused`).
struct StatusCommand {
    /// What is known of one (connection, audience).
    struct Row {
        var state = "-"
        var members = 0
        /// Each destination audience as `scope:id` (or `id`), with its reported size once asked.
        var destinationAudiences: [(label: String, id: String, size: String)] = []
        var lastResult: BatchResult?
        var results = 0
        var failedResults = 0
    }

    let kafka: KafkaConfiguration
    let logger: Logger
    /// Asks the destinations for sizes; nil (no configuration given) leaves the column at `-`.
    var sizes: DestinationSizes?

    /// The rows, and how many records of the changelog or the results this version could not read (left out).
    func rows() async throws -> (rows: [ChangelogSnapshot.AudienceKey: Row], unreadable: Int) {
        async let changelog = readChangelog()
        async let results = readResults()
        async let mappings = AudiencesCommand(kafka: kafka, logger: logger).mappings()
        var (rows, unreadable) = try await changelog
        let (found, unreadableResults) = try await results
        unreadable += unreadableResults
        for result in found {
            let key = ChangelogSnapshot.AudienceKey(connection: result.connectionID, audience: result.audienceID)
            rows[key, default: Row()].results += 1
            if result.status != .succeeded { rows[key]!.failedResults += 1 }
            if (rows[key]!.lastResult?.completedAtMilliseconds ?? -1) <= result.completedAtMilliseconds { rows[key]!.lastResult = result }
        }
        let live = try await mappings.filter { !$0.deleted }
        let reported = await reportedSizes(live.map { ($0.connectionID, $0.destinationAudienceID) })
        for mapping in live {
            rows[ChangelogSnapshot.AudienceKey(connection: mapping.connectionID, audience: mapping.audienceID), default: Row()].destinationAudiences.append((
                label: mapping.scope.isEmpty ? mapping.destinationAudienceID : "\(mapping.scope):\(mapping.destinationAudienceID)",
                id: mapping.destinationAudienceID, size: reported[mapping.connectionID + "/" + mapping.destinationAudienceID] ?? "-"))
        }
        return (rows, unreadable)
    }

    /// Each destination audience's reported size, keyed `connection/destination audience`, asked all at once
    /// (each connection's client paces its own requests).
    private func reportedSizes(_ audiences: [(connection: String, audience: String)]) async -> [String: String] {
        guard let sizes else { return [:] }
        return await withTaskGroup(of: (String, String).self) { group in
            for (connection, audience) in audiences {
                group.addTask { (connection + "/" + audience, await sizes.cell(connection: connection, audience: audience)) }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
    }

    static func table(_ rows: [ChangelogSnapshot.AudienceKey: Row]) -> Table {
        var table = Table(
            columns: ["connection", "audience", "state", "members_sent", "destination_audiences", "destination_size", "last_result", "results", "failed"],
            numeric: ["members_sent", "results", "failed"])
        for (key, row) in rows.sorted(by: { $0.key < $1.key }) {
            let last = row.lastResult.map { "\(Table.time($0.completedAtMilliseconds)) \(Self.name($0.status)) \($0.succeeded)/\($0.attempted)" } ?? "-"
            let destinations = row.destinationAudiences.sorted { $0.label < $1.label }
            table.rows.append([
                key.connection, key.audience, row.state, String(row.members),
                destinations.isEmpty ? "-" : destinations.map(\.label).joined(separator: ","),
                destinations.isEmpty ? "-" : destinations.map(\.size).joined(separator: ","), last, String(row.results),
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

    /// Audience states and member counts from the whole changelog.
    private func readChangelog() async throws -> ([ChangelogSnapshot.AudienceKey: Row], Int) {
        let changelog = try await ChangelogSnapshot.read(kafka: kafka, logger: logger)
        var rows: [ChangelogSnapshot.AudienceKey: Row] = [:]
        for member in changelog.sent.keys { rows[member.audience, default: Row()].members += 1 }
        for (audience, states) in changelog.audiences {
            let held = states.filter { $0.heldSequence != 0 }
            rows[audience, default: Row()].state =
                !held.isEmpty ? "held (\(held.reduce(0) { $0 + $1.heldRemovals }) removals)" : changelog.isDeleted(audience) ? "deleted" : "active"
        }
        return (rows, changelog.unreadable)
    }

    private func readResults() async throws -> ([BatchResult], Int) {
        let partitions = try TopicScan.partitions(of: TopicNames.results, kafka: kafka, logger: logger)
        let results = Mutex<[BatchResult]>([])
        let unreadable = Mutex(0)
        _ = try await PartitionReader.readAll(partitions, configuration: kafka, logger: logger) { _, entries in
            let decoded = entries.compactMap { entry in
                entry.value.flatMap { try? BatchResult(serializedBytes: $0) }.flatMap { $0.connectionID.isEmpty ? nil : $0 }
            }
            unreadable.withLock { $0 += entries.count - decoded.count }
            results.withLock { $0 += decoded }
        }
        return (results.withLock { $0 }, unreadable.withLock { $0 })
    }
}
