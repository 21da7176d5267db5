import Kafka
import Observability
import Synchronization
import Wire

/// `cohortsync audiences list`: our audiences and the destination audiences the uploaders created for them,
/// from the compacted mapping topic `cohortsync.audiences.v1` (the latest record of each key).
struct AudiencesCommand {
    let kafka: KafkaConfiguration
    let logger: Logger

    /// The latest mapping of each key; a key whose latest record is a tombstone is gone.
    func mappings() async throws -> [AudienceMapping] {
        let partitions = try TopicScan.partitions(of: TopicNames.audiences, kafka: kafka, logger: logger)
        let latest = Mutex<[[UInt8]: AudienceMapping?]>([:])
        _ = try await PartitionReader.readAll(partitions, configuration: kafka, logger: logger) { _, entries in
            // A record this version cannot read leaves its key's previous mapping standing, as the uploaders do.
            let decoded = entries.compactMap { entry -> ([UInt8], AudienceMapping?)? in
                guard let value = entry.value else { return (entry.key ?? [], nil) }
                return (try? AudienceMapping(serializedBytes: value)).flatMap { $0.connectionID.isEmpty ? nil : (entry.key ?? [], $0) }
            }
            latest.withLock { for (key, mapping) in decoded { $0[key] = mapping } }
        }
        return latest.withLock { $0.values.compactMap { $0 } }
            .sorted { ($0.connectionID, $0.audienceID, $0.scope) < ($1.connectionID, $1.audienceID, $1.scope) }
    }

    func list() async throws -> Table {
        let mappings = try await mappings()
        var table = Table(columns: ["connection", "audience", "scope", "destination", "destination_audience", "name", "created", "state"])
        for mapping in mappings {
            table.rows.append([
                mapping.connectionID, mapping.audienceID, mapping.scope.isEmpty ? "-" : mapping.scope, mapping.destination.name,
                mapping.destinationAudienceID, mapping.name, Table.time(mapping.createdAtMilliseconds),
                mapping.createIntent ? "creating" : mapping.deleted ? "deleted" : "active",
            ])
        }
        return table
    }
}
