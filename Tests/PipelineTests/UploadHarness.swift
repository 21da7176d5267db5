import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hashing
import Kafka
import Observability
import Synchronization
import TestSupport
import Testing
import Wire

/// A sandbox process and uploader processes on the local broker for one test: a configuration whose X
/// account and TikTok advertiser are unique to the test (so the sandbox's other audiences are not its
/// concern), consumer groups started at the end of the batches topics, and what the sandbox holds.
struct UploadHarness {
    let suffix = TestBroker.uniqueName("u")
    let kafka = KafkaConfiguration(properties: ["bootstrap.servers": TestBroker.bootstrapServers])
    let logger: Logger
    let sandbox: ChildProcess
    let sandboxPort: Int
    let configPath: String
    let producer: KafkaProducer

    var xConnection: String { "x-\(suffix)" }
    var tiktokConnection: String { "tt-\(suffix)" }
    var account: String { "acc-\(suffix)" }
    var advertiser: String { "adv-\(suffix)" }
    var sandboxURL: String { "http://127.0.0.1:\(sandboxPort)" }

    func group(_ destination: Destination) -> String { "upload-\(destination.name)-\(suffix)" }
    func connection(_ destination: Destination) -> String { destination == .x ? xConnection : tiktokConnection }

    /// - Parameter sandboxFlags: flags for `cohortsync-sandbox` (faults at start, limits).
    init(sandboxFlags: [String] = [], logger: Logger) async throws {
        self.logger = logger
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        try IngestNormalizeTests.createInternalTopics(admin)
        sandbox = try ChildProcess(try BuildProducts.executable("cohortsync-sandbox"), ["--port", "0"] + sandboxFlags)
        sandboxPort = try await sandbox.listeningPort(timeout: .seconds(20))
        configPath = NSTemporaryDirectory() + TestBroker.uniqueName("upload-config") + ".json"
        let config = """
            {"connections": [
               {"id": "x-\(suffix)", "destination": "x", "account": "acc-\(suffix)", "apiBaseURL": "http://127.0.0.1:\(sandboxPort)/12",
                "credentials": {"consumerKey": {"env": "XK"}, "consumerSecret": {"env": "XS"}, "token": {"env": "XT"}, "tokenSecret": {"env": "XTS"}},
                "forward": ["email", "idfa"]},
               {"id": "tt-\(suffix)", "destination": "tiktok", "advertiser": "adv-\(suffix)", "apiBaseURL": "http://127.0.0.1:\(sandboxPort)/open_api/v1.3",
                "credentials": {"accessToken": {"env": "TT"}}, "forward": ["email", "idfa"]}],
             "syncs": []}
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        producer = try KafkaProducer(configuration: kafka, logger: logger)
        for destination in Destination.platforms {
            try await TopicEnds.startGroup(group(destination), atEndOf: TopicNames.batches(for: destination)!, kafka: kafka, logger: logger)
        }
    }

    var environment: [String: String] {
        [
            "KAFKA_BROKERS": TestBroker.bootstrapServers, "COHORTSYNC_CONFIG": configPath,
            "KAFKA_RECEIVE_MESSAGE_MAX_BYTES": "1000000000", "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "XK": "sandbox-consumer-key", "XS": "sandbox-consumer-secret", "XT": "sandbox-token", "XTS": "sandbox-token-secret", "TT": "sandbox-tiktok-token",
        ].merging(TestBroker.stageEnvironment) { $1 }
    }

    /// Starts an uploader (a static member when `instance` is given, so a replacement takes its place at once:
    /// the local broker never expires a dead member's session, docs/development.md) and waits until it owns
    /// partitions, its mappings read.
    func start(
        _ destination: Destination, _ arguments: [String] = [], instance: String? = nil, waitForReady: Bool = true
    ) async throws -> (process: ChildProcess, port: Int) {
        var environment = environment
        if let instance { environment["KAFKA_GROUP_INSTANCE_ID"] = "\(group(destination))-\(instance)" }
        let process = try ChildProcess(
            try BuildProducts.executable("cohortsync-upload-\(destination.name)"),
            ["--group", group(destination), "--http-host", "127.0.0.1", "--http-port", "0", "--pause-probe-seconds", "1"] + arguments,
            environment: environment)
        let port = try await process.listeningPort()
        if waitForReady {
            try await waitFor("the uploader to own its partitions", timeout: .seconds(60)) {
                (try? await HTTPProbe.get("http://127.0.0.1:\(port)/readyz").status) == 200
            }
        }
        return (process, port)
    }

    /// A batch for this test's connection of `destination`.
    func batch(
        _ destination: Destination, _ audience: String, _ operation: BatchOperation, _ users: [Int], name: String? = nil, scope: IdentifierType = .unspecified
    ) -> Batch {
        Batch(
            batchID: UUID().uuidString, connectionID: connection(destination), audienceID: "\(audience)-\(suffix)", audienceName: name ?? "\(audience) \(suffix)",
            destination: destination, operation: operation, users: users.map(Self.user), createdAtMilliseconds: 1, scope: scope)
    }

    /// User `n` of every test: one email, its digest derived from `n`.
    static func user(_ n: Int) -> BatchUser {
        BatchUser(userKey: "user-\(n)", identifiers: [HashedIdentifier(type: .email, sha256: email(n))])
    }

    static func email(_ n: Int) -> [UInt8] { SHA256Digest.hash("user-\(n)@example.com").bytes }
    static func emailHex(_ n: Int) -> String { SHA256Digest.hash("user-\(n)@example.com").hex }

    /// Writes batches to their topic, each keyed by connection/audience as the batcher keys them, in order.
    func send(_ batches: [Batch]) async throws {
        var deliveries: [PendingDelivery] = []
        for batch in batches {
            deliveries.append(try await producer.send(ProducerRecord(
                topic: TopicNames.batches(for: batch.destination)!, key: Array("\(batch.connectionID)/\(batch.audienceID)".utf8), value: batch.serializedBytes(),
                headers: RecordHeaders.kafkaHeaders(for: Batch.self, trace: SourcePosition(topic: "test", partition: 0, offset: 0)))))
        }
        for delivery in deliveries { _ = try await delivery.acknowledged() }
    }

    /// One audience the sandbox holds for this test's account or advertiser.
    struct SandboxAudience: Equatable {
        let id: String
        let name: String
        /// Every digest of every member, whatever its key.
        let digests: Set<String>
        let memberCount: Int
    }

    func audiences(_ destination: Destination) async throws -> [SandboxAudience] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(sandboxURL)/_sandbox/audiences")!)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let owner = destination == .x ? account : advertiser
        return (object?["audiences"] as? [[String: Any]] ?? []).filter { $0["destination"] as? String == destination.name && $0["account"] as? String == owner }.map { entry in
            let members = entry["members"] as? [[String: [String]]] ?? []
            return SandboxAudience(
                id: entry["id"] as? String ?? "", name: entry["name"] as? String ?? "", digests: Set(members.flatMap { $0.values.flatMap { $0 } }),
                memberCount: entry["member_count"] as? Int ?? -1)
        }
    }

    /// Creates a TikTok audience in the sandbox as an uploader would, behind the pipeline's back; its id.
    func createTikTokAudience(named name: String) async throws -> String {
        var request = URLRequest(url: URL(string: "\(sandboxURL)/open_api/v1.3/segment/audience/")!)
        request.httpMethod = "POST"
        request.setValue("sandbox-tiktok-token", forHTTPHeaderField: "Access-Token")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["advertiser_id": advertiser, "action": "create", "custom_audience_name": name])
        let (data, _) = try await URLSession.shared.data(for: request)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        guard let id = (object?["data"] as? [String: Any])?["audience_id"] as? String else { throw TestSupportError("the sandbox created no audience: \(object ?? [:])") }
        return id
    }

    /// Replaces the sandbox's faults: `{"x": {...}, "tiktok": {...}}` as `POST /_sandbox/faults` takes them.
    func setFaults(_ json: String) async throws {
        var request = URLRequest(url: URL(string: "\(sandboxURL)/_sandbox/faults")!)
        request.httpMethod = "POST"
        request.httpBody = Data(json.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw TestSupportError("faults \(json) refused") }
    }

    /// A counter or gauge from an uploader's `/metrics`, summed over the label sets that contain `labels`.
    func metric(_ name: String, labels: String = "", port: Int) async -> Double {
        await BatcherHarness.metric(name, labels: labels, port: port)
    }

    func stop() {
        sandbox.stop()
        try? FileManager.default.removeItem(atPath: configPath)
    }
}

/// What an audience should hold after a sequence of batches: a simple model of add and remove.
struct ExpectedAudiences {
    private(set) var members: [String: Set<Int>] = [:]
    private(set) var deleted: Set<String> = []

    mutating func apply(_ audience: String, _ operation: BatchOperation, _ users: [Int]) {
        switch operation {
        case .add: members[audience, default: []].formUnion(users)
        case .remove: members[audience, default: []].subtract(users)
        case .deleteAudience:
            members[audience] = nil
            deleted.insert(audience)
        case .unspecified: break
        }
    }

    func digests(_ audience: String) -> Set<String> { Set((members[audience] ?? []).map(UploadHarness.emailHex)) }
}
