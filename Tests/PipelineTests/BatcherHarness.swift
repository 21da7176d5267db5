import Foundation
import Hashing
import Kafka
import Observability
import Synchronization
import TestSupport
import Testing
import Wire

/// Runs `cohortsync-batcher` processes on the local broker for one test: their configuration (ids unique to
/// the test, so other tests' records on the shared topics are ignored), their group started at the end of
/// `hashed`, and a reader of the batches they write.
struct BatcherHarness {
    let suffix = TestBroker.uniqueName("b")
    let kafka = KafkaConfiguration(properties: ["bootstrap.servers": TestBroker.bootstrapServers])
    let group: String
    let configPath: String
    let logger: Logger

    var xConnection: String { "x-\(suffix)" }
    var tiktokConnection: String { "tt-\(suffix)" }
    func audience(_ name: String) -> String { "\(name)-\(suffix)" }

    /// - Parameter syncs: audience names (made unique) synced to both connections, realtime with a 1 s delay.
    init(audiences: [String], maxRemovalFraction: Double = 0.9, logger: Logger) async throws {
        self.logger = logger
        group = TestBroker.uniqueName("batcher")
        configPath = NSTemporaryDirectory() + TestBroker.uniqueName("batcher-config") + ".json"
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        try IngestNormalizeTests.createInternalTopics(admin)
        let syncs = audiences.flatMap { name in
            [xConnection, tiktokConnection].map { connection in
                #"{"audience": "\#(audience(name))", "connection": "\#(connection)", "maxDelaySeconds": 1, "maxRemovalFraction": \#(maxRemovalFraction)}"#
            }
        }
        let config = """
            {"connections": [
               {"id": "\(xConnection)", "destination": "x", "account": "acc1",
                "credentials": {"consumerKey": {"env": "XK"}, "consumerSecret": {"env": "XS"}, "token": {"env": "XT"}, "tokenSecret": {"env": "XTS"}},
                "forward": ["email", "idfa"]},
               {"id": "\(tiktokConnection)", "destination": "tiktok", "advertiser": "adv1", "credentials": {"accessToken": {"env": "TT"}},
                "forward": ["email", "idfa"]}],
             "syncs": [\(syncs.joined(separator: ",\n"))]}
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        try await TopicEnds.startGroup(group, atEndOf: TopicNames.hashed, kafka: kafka, logger: logger)
    }

    var environment: [String: String] {
        [
            "KAFKA_BROKERS": TestBroker.bootstrapServers, "COHORTSYNC_CONFIG": configPath,
            // The local broker answers a fetch with a partition's whole backlog (docs/development.md).
            "KAFKA_RECEIVE_MESSAGE_MAX_BYTES": "1000000000",
            "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        ].merging(TestBroker.stageEnvironment) { $1 }
    }

    /// Starts a batcher replica (a static member when `instance` is given, so a replacement takes its place
    /// at once) and waits until it owns partitions with their state restored.
    func start(instance: String? = nil) async throws -> (process: ChildProcess, port: Int) {
        var environment = environment
        if let instance { environment["KAFKA_GROUP_INSTANCE_ID"] = "\(group)-\(instance)" }
        let process = try ChildProcess(
            try BuildProducts.executable("cohortsync-batcher"), ["--group", group, "--http-host", "127.0.0.1", "--http-port", "0"],
            environment: environment)
        let port = try await process.listeningPort()
        try await waitFor("the batcher to restore and own its partitions", timeout: .seconds(60)) {
            (try? await HTTPProbe.get("http://127.0.0.1:\(port)/readyz").status) == 200
        }
        return (process, port)
    }

    /// A counter or gauge from a batcher's `/metrics`, summed over the label sets that contain `labels`.
    static func metric(_ name: String, labels: String = "", port: Int) async -> Double {
        guard let body = try? await HTTPProbe.get("http://127.0.0.1:\(port)/metrics").body else { return -1 }
        return body.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .filter { labels.isEmpty || $0.contains(labels) }
            .reduce(0) { $0 + (Double($1.split(separator: " ").last ?? "") ?? 0) }
    }

    /// Writes member records to `hashed` as normalize would: each to the partition its key maps to.
    func write(_ records: [(partition: Int32, record: HashedRecord)]) async throws {
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        var out = OutgoingRecords()
        for (partition, record) in records {
            out.append(record, topic: TopicNames.hashed, placement: .partition(partition), headers: .none, key: nil)
        }
        try await producer.deliver(out)
        try await producer.shutdown()
    }

    static let partitions: Int32 = 4
}

/// An in-memory destination that applies batches in the order read, the way X and TikTok treat them: an
/// add creates a user from its digests (merging any user it matches on one of them), a removal deletes every
/// user it matches on any digest (the whole user, not only the digests named), a delete-audience drops the
/// audience. So a change sent in the wrong order (the add before the removal) loses the user here too.
struct ModelDestination {
    /// Per audience: its users, each the digests added together.
    private(set) var users: [String: [Set<String>]] = [:]
    var deleted: Set<String> = []
    var operationsAfterDelete = 0
    var batches = 0

    init(_ batches: [Batch] = []) {
        for batch in batches { apply(batch) }
    }

    /// Per audience: every digest it holds.
    var audiences: [String: Set<String>] {
        users.compactMapValues { users in users.isEmpty ? nil : users.reduce(into: Set<String>()) { $0.formUnion($1) } }
    }

    mutating func apply(_ batch: Batch) {
        batches += 1
        let key = "\(batch.connectionID)/\(batch.audienceID)"
        switch batch.operation {
        case .deleteAudience:
            users[key] = nil
            deleted.insert(key)
        case .add, .remove, .unspecified:
            if deleted.contains(key) { operationsAfterDelete += 1 }
            for user in batch.users {
                let digests = Set(user.identifiers.map { ModelDestination.hex($0.sha256) })
                var audience = users[key] ?? []
                let matched = audience.filter { !$0.isDisjoint(with: digests) }
                audience.removeAll { !$0.isDisjoint(with: digests) }
                if batch.operation == .add { audience.append(matched.reduce(digests) { $0.union($1) }) }
                users[key] = audience
            }
        }
    }

    /// Per audience, how many expected digests are missing and how many are there unexpectedly.
    func difference(from expected: [String: Set<String>]) -> String {
        Set(audiences.keys).union(expected.keys).sorted().map { key in
            let have = audiences[key] ?? []
            let want = expected[key] ?? []
            return "\(key): \(want.subtracting(have).count) missing, \(have.subtracting(want).count) extra of \(want.count)"
        }.joined(separator: "; ") + "; \(batches) batches, \(operationsAfterDelete) operations after a delete"
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// The SHA-256 of an identifier as normalize writes it for an already normalized value.
    static func digest(_ normalized: String) -> [UInt8] { SHA256Digest.hash(Array(normalized.utf8)).bytes }
}

/// Reads the batches topics from their current ends and keeps the batches of one test's connections.
final class BatchReader: Sendable {
    private let tail: TopicTail
    private let connections: Set<String>
    private let kafka: KafkaConfiguration
    private let logger: Logger

    init(connections: Set<String>, kafka: KafkaConfiguration, logger: Logger) async throws {
        tail = try await TopicTail([TopicNames.batchesX, TopicNames.batchesTikTok], fromEnd: true, logger: logger)
        self.connections = connections
        self.kafka = kafka
        self.logger = logger
    }

    /// The test's batches among `records`, in topic order (one audience's batches share a partition, so
    /// their order holds).
    private func batches(_ records: [ConsumerRecord]) -> [Batch] {
        records.compactMap { record in
            guard let batch = try? Batch(serializedBytes: record.value), connections.contains(batch.connectionID) else { return nil }
            return batch
        }
    }

    /// Waits until the batches read so far, applied to a model destination, satisfy `condition`.
    @discardableResult
    func wait(for what: String, timeout: Duration = .seconds(120), until condition: @escaping @Sendable (ModelDestination, [Batch]) -> Bool) async throws -> [Batch] {
        batches(try await tail.wait(for: what, timeout: timeout) { records in
            let batches = self.batches(records)
            return condition(ModelDestination(batches), batches)
        })
    }

    /// Everything written before this call: a marker goes to every partition of both topics, and the
    /// batches are returned once every marker was read (nothing written earlier can still be on its way).
    func settled() async throws -> [Batch] {
        let marker = Array(TestBroker.uniqueName("barrier").utf8)
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        var out = OutgoingRecords()
        for topic in [TopicNames.batchesX, TopicNames.batchesTikTok] {
            for partition in 0..<Int32(try admin.partitionCount(of: topic) ?? 0) {
                out.append(topic: topic, placement: .partition(partition), key: marker) { _ in }
            }
        }
        let expected = out.count
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        try await producer.deliver(out)
        try await producer.shutdown()
        return batches(try await tail.wait(for: "the barrier markers") { records in records.filter { $0.key == marker }.count == expected })
    }

    func close() async { await tail.close() }
}
