import Foundation
import Kafka
import Observability
import Synchronization
import TestSupport
import Testing
import Wire

/// Issue acceptance: 10,000 mixed upstream records through cohortsync-ingest and cohortsync-normalize as
/// child processes on the local broker. Every input is accounted for, digests equal the vector file's, and
/// no raw identifier reaches the hashed or DLQ topics.
@Suite("Ingest and normalize end to end on the local broker", .serialized, .timeLimit(.minutes(6)))
struct IngestNormalizeTests {
    let logger = Logger(stage: "pipeline-test", minimumLevel: .warning)

    @Test("10,000 mixed records: accounted for, hashed as the vectors say, nothing raw downstream")
    func tenThousandRecords() async throws {
        let kafka = KafkaConfiguration(properties: ["bootstrap.servers": TestBroker.bootstrapServers])
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        try Self.createInternalTopics(admin)
        let partitions = try #require(try admin.partitionCount(of: TopicNames.members))
        let upstreamTopic = TestBroker.uniqueName("cdp-audiences")
        // The corpus holds one record over 1 MiB (ingest must refuse it), so this topic and producer allow 3 MB.
        _ = try admin.createTopic(TopicSpecification(name: upstreamTopic, partitions: 3, configuration: ["max.message.bytes": "3000000"]))

        let corpus = UpstreamCorpus(count: 10_000, seed: 42)
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(properties: kafka.properties.merging(["message.max.bytes": "3000000"]) { $1 }), logger: logger)
        var deliveries: [PendingDelivery] = []
        for entry in corpus.entries {
            let audience = entry.json.range(of: #""id":"aud_[a-z]+""#, options: .regularExpression).map { String(entry.json[$0]) } ?? "none"
            deliveries.append(try await producer.send(ProducerRecord(topic: upstreamTopic, key: Array(audience.utf8), value: Array(entry.json.utf8))))
        }
        var offsets: [String: Int] = [:]
        for (index, delivery) in deliveries.enumerated() {
            let report = try await delivery.acknowledged()
            offsets["\(report.partition)/\(report.offset)"] = index
        }
        try await producer.shutdown()

        let configPath = NSTemporaryDirectory() + TestBroker.uniqueName("config") + ".json"
        try TestConfigs.standard.write(toFile: configPath, atomically: true, encoding: .utf8)
        let environment = ["KAFKA_BROKERS": TestBroker.bootstrapServers, "COHORTSYNC_CONFIG": configPath].merging(TestBroker.stageEnvironment) { $1 }
        // Normalize starts at the end of `members` so earlier runs' records on the shared local broker stay out of its counts.
        let normalizeGroup = TestBroker.uniqueName("normalize")
        try await TopicEnds.startGroup(normalizeGroup, atEndOf: TopicNames.members, kafka: kafka, logger: logger)
        let normalize = try ChildProcess(
            try BuildProducts.executable("cohortsync-normalize"),
            ["--group", normalizeGroup, "--http-host", "127.0.0.1", "--http-port", "0"], environment: environment)
        defer { normalize.stop() }
        let normalizePort = try await normalize.listeningPort()
        try await waitFor("normalize to own its partitions", timeout: .seconds(30)) {
            (try? await HTTPProbe.get("http://127.0.0.1:\(normalizePort)/readyz").status) == 200
        }
        let reader = try await Self.startReader(upstreamTopic: upstreamTopic, kafka: kafka, logger: logger)
        let ingest = try ChildProcess(
            try BuildProducts.executable("cohortsync-ingest"),
            ["--topics", upstreamTopic, "--group", TestBroker.uniqueName("ingest"), "--http-host", "127.0.0.1", "--http-port", "0"],
            environment: environment)
        defer { ingest.stop() }
        let ingestPort = try await ingest.listeningPort()

        // What each upstream record should become.
        var expectedIngest: [String: Int] = [:]
        var expectedDLQ: [String: Int] = [:]
        var expectedNormalize: [String: Int] = [:]
        for entry in corpus.entries {
            switch entry.expected {
            case .deadLetter(let reason):
                expectedIngest["dead-lettered", default: 0] += 1
                expectedDLQ[reason, default: 0] += 1
            case .dropped:
                expectedIngest["dropped", default: 0] += 1
            case .control:
                expectedIngest["control", default: 0] += 1
                expectedNormalize["control", default: 0] += partitions
            case .member(let x, let tiktok, let denied):
                expectedIngest["forwarded", default: 0] += 1
                expectedNormalize[(x != nil || tiktok != nil) && !denied ? "hashed" : "refused", default: 0] += 1
            }
        }
        let normalizeTotal = expectedNormalize.values.reduce(0, +)
        var ingestCounts: [String: Int] = [:]
        var normalizeCounts: [String: Int] = [:]
        try await waitFor("both stages to account for every record", timeout: .seconds(180)) {
            ingestCounts = await Self.counts("cohortsync_ingest_records_total", port: ingestPort)
            normalizeCounts = await Self.counts("cohortsync_normalize_records_total", port: normalizePort)
            return ingestCounts.values.reduce(0, +) >= corpus.entries.count && normalizeCounts.values.reduce(0, +) >= normalizeTotal
        }
        #expect(ingestCounts == expectedIngest)
        #expect(normalizeCounts == expectedNormalize)
        #expect(ingestCounts.values.reduce(0, +) == corpus.entries.count, "hashed + refused + DLQ + dropped + control = input")

        // Read what the stages wrote for this run (by the trace header, which names the upstream topic).
        let written = try await reader.collect(expectedDeadLetters: expectedDLQ.values.reduce(0, +))
        var hashedByInput: [Int: [HashedMember]] = [:]
        for (trace, member) in written.members {
            guard let index = offsets["\(trace.partition)/\(trace.offset)"] else { continue }
            hashedByInput[index, default: []].append(member)
        }
        var checkedDigests = 0
        var duplicates = 0
        var withdrawals = 0
        var consentWithdrawals = 0
        for (index, entry) in corpus.entries.enumerated() {
            guard case .member(let x, let tiktok, let denied) = entry.expected else { continue }
            let members = hashedByInput[index] ?? []
            if denied {
                // From every audience of every connection, whichever audience the record names (synced or not).
                let everySync: Set = ["x-main/aud_x", "x-main/aud_both", "tiktok-eu/aud_both", "tiktok-eu/aud_tiktok"]
                #expect(Set(members.map { "\($0.connectionID)/\($0.audienceID)" }) == everySync, "record \(index): a denied consent withdraws the user everywhere")
                #expect(members.allSatisfy { $0.action == .consentWithdrawn && $0.identifiers.isEmpty }, "record \(index): withdrawals only")
                consentWithdrawals += 1
                continue
            }
            for (connection, expected) in [("x-main", x), ("tiktok-eu", tiktok)] {
                let got = members.filter { $0.connectionID == connection }
                guard let expected else {
                    // Not synced: nothing. Synced with nothing usable: the member with no identifier (a withdrawal).
                    #expect(got.allSatisfy { $0.identifiers.isEmpty }, "record \(index): \(connection) should get no identifier")
                    withdrawals += got.isEmpty ? 0 : 1
                    continue
                }
                // At least once: a record may be written twice after a redelivery, never zero times, always the same.
                #expect(!got.isEmpty, "record \(index): a hashed member for \(connection)")
                duplicates += max(got.count - 1, 0)
                for member in got {
                    let digests = Set(member.identifiers.map { "\($0.type):" + $0.sha256.map { String(format: "%02x", $0) }.joined() })
                    #expect(digests == expected, "record \(index) for \(connection)")
                }
                checkedDigests += expected.count
            }
        }
        #expect(checkedDigests > 5_000)
        #expect(withdrawals > 100, "members with no usable identifier are forwarded with none")
        #expect(consentWithdrawals > 300, "users who denied consent, in synced audiences and in aud_none")
        let letters = written.deadLetters.reduce(into: [String: Set<SourcePosition>]()) { $0[$1.reason, default: []].insert($1.source) }
        #expect(letters.mapValues(\.count) == expectedDLQ)

        // No raw identifier anywhere downstream: not in hashed records, not in dead letters.
        var blob = Data()
        for bytes in written.rawBytes {
            blob.append(contentsOf: bytes)
            blob.append(0)
        }
        #expect(blob.count > 100_000)
        for value in corpus.rawValues {
            #expect(blob.range(of: Data(value.utf8)) == nil, "raw value found downstream")
        }

        for child in [ingest, normalize] {
            child.send(SIGTERM)
            #expect(await child.waitForExit(timeout: .seconds(10)) == 0, "stage did not exit cleanly:\n\(child.stderr.suffix(2000))")
        }
        print("ingest: \(ingestCounts), normalize: \(normalizeCounts), \(checkedDigests) digests checked, \(duplicates) duplicate hashed records, \(corpus.rawValues.count) raw values scanned for")
    }

    /// A counter family by its `outcome` label, from a stage's /metrics (outcomes never seen left out).
    static func counts(_ name: String, port: Int) async -> [String: Int] {
        guard let body = try? await HTTPProbe.get("http://127.0.0.1:\(port)/metrics").body else { return [:] }
        var counts: [String: Int] = [:]
        for line in body.split(separator: "\n") where line.hasPrefix(name + "{outcome=\"") {
            let outcome = line.dropFirst(name.count + 10).prefix { $0 != "\"" }
            counts[String(outcome)] = Int(line.split(separator: " ").last ?? "") ?? 0
        }
        return counts.filter { $0.value > 0 }
    }

    struct Written: Sendable {
        var members: [(SourcePosition, HashedMember)] = []
        var deadLetters: [DeadLetter] = []
        var rawBytes: [[UInt8]] = []
    }

    /// Starts reading `hashed` and the DLQ at their current ends (a fresh group with `auto.offset.reset=latest`),
    /// so records of earlier runs on the shared local broker never need reading; returns once assigned.
    static func startReader(upstreamTopic: String, kafka: KafkaConfiguration, logger: Logger) async throws -> Reader {
        // It starts where both topics end now, before ingest writes anything: whatever is written after is read.
        var configuration = KafkaConsumerConfiguration(
            groupID: TestBroker.uniqueName("readback"), topics: [TopicNames.hashed, TopicNames.deadLetters], kafka: kafka)
        configuration.startOffsets = try TopicEnds.now(of: [TopicNames.hashed, TopicNames.deadLetters], kafka: kafka, logger: logger)
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let assigned = Mutex(false)
        let reader = Reader(consumer: consumer, upstreamTopic: upstreamTopic) { assigned.withLock { $0 = true } }
        try await waitFor("the reader to be assigned", timeout: .seconds(30)) { assigned.withLock { $0 } }
        return reader
    }
}

/// A consumer of `hashed` and the DLQ that keeps the records traced to one upstream topic.
final class Reader: Sendable {
    /// How far reading got, shared with the reading task.
    final class Progress: Sendable {
        let state = Mutex((deadLetters: 0, last: ContinuousClock.now))
    }

    let consumer: KafkaConsumer
    let progress = Progress()
    let task: Task<IngestNormalizeTests.Written, any Error>

    init(consumer: KafkaConsumer, upstreamTopic: String, assigned: @escaping @Sendable () -> Void) {
        self.consumer = consumer
        let progress = self.progress
        task = Task {
            var result = IngestNormalizeTests.Written()
            for try await event in consumer.events {
                if case .assigned = event { assigned() }
                guard case .records(let batch) = event else { continue }
                progress.state.withLock { $0.last = ContinuousClock.now }
                for record in batch {
                    guard let trace = record.headerString(named: RecordHeaders.traceName).flatMap(RecordHeaders.parseTrace), trace.topic == upstreamTopic
                    else { continue }
                    result.rawBytes.append(record.value + (record.key ?? []))
                    if record.topic == TopicNames.deadLetters {
                        result.deadLetters.append(try DeadLetter(serializedBytes: record.value))
                    } else if case .member(let member) = try HashedRecord(serializedBytes: record.value) {
                        result.members.append((trace, member))
                    }
                }
                let letters = result.deadLetters.count
                progress.state.withLock { $0.deadLetters = letters }
            }
            return result
        }
    }

    /// Waits until every expected dead letter is in and nothing has arrived for three seconds, then stops.
    func collect(expectedDeadLetters: Int) async throws -> IngestNormalizeTests.Written {
        try await waitFor("the hashed and DLQ records of this run", timeout: .seconds(120)) {
            let state = progress.state.withLock { $0 }
            return state.deadLetters >= expectedDeadLetters && ContinuousClock.now - state.last > .seconds(3)
        }
        consumer.endEvents()
        let written = try await task.value
        await consumer.close()
        return written
    }
}

func waitFor(_ what: String, timeout: Duration, _ condition: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !(await condition()) {
        guard ContinuousClock.now < deadline else { throw TestSupportError("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(250))
    }
}
