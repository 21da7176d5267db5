import Kafka
import Observability
import Stage
import Synchronization
import Wire

/// Our audience → the destination audience, from the compacted `cohortsync.audiences.v1`.
///
/// Every batch of one audience is in one partition of the batches topic, so one replica at a time owns an
/// audience; it reads the whole mapping topic when it is assigned partitions (after the previous owner
/// wrote its last mapping, since a revocation waits for in-flight batches) and writes a mapping, waiting
/// for the broker's acknowledgement, before it uploads to the audience it created. Creation is thereby
/// serialized per audience across replicas and restarts, as long as partitions are revoked rather than lost
/// (an evicted member may still be creating). A create intent is written the same way before the create is
/// sent, so whoever finds one looks for the audience before creating another.
public final class AudienceDirectory: Sendable {
    /// One destination audience: per connection, upstream audience and identifier scope.
    public struct Key: Hashable, Sendable {
        public var connectionID: String
        public var audienceID: String
        /// The identifier type's name for a per-identifier audience, empty for one audience.
        public var scope: String

        public init(_ batch: Batch) {
            connectionID = batch.connectionID
            audienceID = batch.audienceID
            scope = batch.scope == .unspecified ? "" : batch.scope.name
        }

        init(_ mapping: AudienceMapping) {
            connectionID = mapping.connectionID
            audienceID = mapping.audienceID
            scope = mapping.scope
        }

        /// The record key on the mapping topic.
        var recordKey: [UInt8] { Array("\(connectionID)/\(audienceID)/\(scope)".utf8) }
    }

    private let destination: Destination
    private let producer: KafkaProducer
    private let kafka: KafkaConfiguration
    private let logger: Logger
    private struct Known {
        var mappings: [Key: AudienceMapping] = [:]
        /// When each mapping was written by this replica, counted in writes.
        var writtenAt: [Key: Int] = [:]
        var writes = 0
    }

    private let known = Mutex(Known())

    public init(destination: Destination, producer: KafkaProducer, kafka: KafkaConfiguration, logger: Logger) {
        self.destination = destination
        self.producer = producer
        self.kafka = kafka
        self.logger = logger
    }

    /// The live destination audience of `key`; nil when none was created or it was deleted.
    public func live(_ key: Key) -> AudienceMapping? {
        known.withLock { $0.mappings[key] }.flatMap { $0.deleted || $0.createIntent ? nil : $0 }
    }

    /// The create intent of `key` when its latest record is one: a create was about to be sent, and whether
    /// the destination made the audience is unknown until someone looks.
    public func createIntent(_ key: Key) -> AudienceMapping? {
        known.withLock { $0.mappings[key] }.flatMap { $0.createIntent ? $0 : nil }
    }

    /// The destination audiences never to be adopted for `key`: every one a mapping of its connection (its
    /// account or advertiser) names, live or deleted.
    public func unadoptable(for key: Key) -> Set<String> {
        known.withLock { known in
            Set(known.mappings.compactMap { other, mapping in
                other.connectionID == key.connectionID && !mapping.destinationAudienceID.isEmpty ? mapping.destinationAudienceID : nil
            })
        }
    }

    /// Reads every partition of the mapping topic to its end; what it read replaces what this replica knew
    /// of the same audiences.
    /// - Throws: `KafkaError` when the topic cannot be read.
    public func restore(partitions: Int32) async throws {
        let read = Mutex<[Key: AudienceMapping]>([:])
        let unreadable = Atomic(0)
        let topicPartitions = (0..<partitions).map { TopicPartition(topic: TopicNames.audiences, partition: $0) }
        let started = ContinuousClock.now
        let writesBefore = known.withLock { $0.writes }
        _ = try await PartitionReader.readAll(topicPartitions, configuration: kafka, logger: logger) { [destination] _, entries in
            read.withLock { read in
                for entry in entries {
                    guard let value = entry.value, let mapping = try? AudienceMapping(serializedBytes: value) else {
                        if entry.value != nil { unreadable.add(1, ordering: .relaxed) }
                        continue
                    }
                    if mapping.destination == destination { read[Key(mapping)] = mapping }
                }
            }
        }
        // What the read found wins, except a mapping this replica wrote after the read began: that one is newer.
        let restored = read.withLock { $0 }
        known.withLock { known in
            for (key, mapping) in restored where (known.writtenAt[key] ?? 0) <= writesBefore {
                known.mappings[key] = mapping
            }
        }
        logger.info(
            "audience mappings read", [("topic", .string(TopicNames.audiences)), ("mappings", .integer(restored.count)),
                                       ("unreadable", .integer(unreadable.load(ordering: .relaxed))), ("seconds", .double((ContinuousClock.now - started).inSeconds))])
    }

    /// Writes `mapping` and returns once the broker has it; only then is it used.
    /// - Throws: `KafkaError` when the broker did not take it.
    public func record(_ mapping: AudienceMapping) async throws(KafkaError) {
        var records = OutgoingRecords()
        let headers = records.standardHeaders(for: AudienceMapping.self, trace: SourcePosition())
        records.append(mapping, topic: TopicNames.audiences, placement: .byKey, headers: headers, key: Key(mapping).recordKey)
        try await producer.deliver(records)
        known.withLock { known in
            known.writes += 1
            known.mappings[Key(mapping)] = mapping
            known.writtenAt[Key(mapping)] = known.writes
        }
    }
}
