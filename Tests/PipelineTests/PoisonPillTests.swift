import Foundation
import Kafka
import Stage
import TestSupport
import Testing
import Wire

/// Issue acceptance (hostile input): a record a stage cannot produce is dead-lettered and the next record is
/// processed; raw identifiers written where the schema has names or enumerations never reach the DLQ or a log.
///
/// Part of the serialized end-to-end suite: these tests run stages on the shared internal topics, and the
/// 10,000-record test counts exactly what its stages see there.
extension IngestNormalizeTests {
    static let kafka = KafkaConfiguration(properties: ["bootstrap.servers": TestBroker.bootstrapServers, "message.max.bytes": "3000000"])
    static let email = "someone@example.com"

    @Test("ingest dead-letters a 921,706-byte membership and hostile names, then goes on with the next records")
    func ingestMovesOn() async throws {
        let admin = try KafkaAdmin(configuration: Self.kafka, logger: logger)
        try Self.createInternalTopics(admin)
        let upstream = TestBroker.uniqueName("cdp-hostile")
        _ = try admin.createTopic(TopicSpecification(name: upstream, partitions: 1, configuration: ["max.message.bytes": "3000000"]))
        let huge = #"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":""#
            + String(repeating: "u", count: 921_608) + #"","email":"a@b.co"}}"#
        let inputs = [
            huge,
            #"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u_ok","email":"ok@example.com"}}"#,
            #"{"type":"identify","userId":"u","traits":{"someone@example.com":true},"context":{"personas":{"computation_key":"aud_x"}}}"#,
            #"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u"},"timestamp":"someone@example.com"}"#,
            #"{"type":"someone@example.com","audience":{"id":"aud_x"}}"#,
            #"{"type":"membership","audience":{"id":"aud_x"},"action":"someone@example.com","user":{"id":"u"}}"#,
            #"{"type":"track","event":"someone@example.com","userId":"u","properties":{"audience_key":"aud_x"}}"#,
            #"{"type":"membership","audience":{"id":"aud_x"},"action":"enter","user":{"id":"u_ok2"}}"#,
        ]
        #expect(inputs[0].utf8.count == 921_706)
        // From the topics' ends: the shared local broker may hold a long backlog of both.
        let tail = try await TopicTail([TopicNames.members, TopicNames.deadLetters], fromEnd: true, logger: logger)
        let producer = try KafkaProducer(configuration: Self.kafka, logger: logger)
        for input in inputs {
            _ = try await producer.send(ProducerRecord(topic: upstream, key: Array("aud_x".utf8), value: Array(input.utf8))).acknowledged()
        }
        try await producer.shutdown()

        let ingest = try ChildProcess(
            try BuildProducts.executable("cohortsync-ingest"),
            ["--topics", upstream, "--group", TestBroker.uniqueName("ingest"), "--http-host", "127.0.0.1", "--http-port", "0", "--log-level", "debug"],
            environment: try Self.environment())
        defer { ingest.stop() }
        let records = try await tail.wait(for: "ingest's output for all eight records") { records in
            Self.traced(records, to: upstream).count >= 8
        }
        await tail.close()
        let mine = records.filter { Self.trace(of: $0)?.topic == upstream }
        let letters = try mine.filter { $0.topic == TopicNames.deadLetters }.map { try DeadLetter(serializedBytes: $0.value) }
        let reasons = Dictionary(letters.map { ($0.source.offset, $0.reason) }, uniquingKeysWith: { (first: String, _: String) in first })
        #expect(reasons == [0: "invalid-field", 2: "invalid-field", 3: "invalid-field", 4: "unknown-type", 5: "invalid-action", 6: "unknown-type"])
        let huge0 = try #require(letters.first { $0.source.offset == 0 })
        #expect(huge0.detail == "user.id: 921608 bytes; at most 1024")
        let forwarded = Set(mine.filter { $0.topic == TopicNames.members }.compactMap { Self.trace(of: $0)?.offset })
        #expect(forwarded == [1, 7], "the records after the oversized one are forwarded")
        #expect(ingest.isRunning, "ingest keeps running:\n\(ingest.stderr.suffix(2000))")

        for letter in mine where letter.topic == TopicNames.deadLetters {
            #expect(!String(decoding: letter.value, as: UTF8.self).contains(Self.email), "a raw email in a dead letter")
        }
        let timestampLetter = try #require(letters.first { $0.source.offset == 3 })
        #expect(timestampLetter.redactedExcerpt.contains(#""timestamp":"[redacted]""#))
        ingest.send(SIGTERM)
        #expect(await ingest.waitForExit(timeout: .seconds(20)) == 0)
        #expect(!ingest.stderr.isEmpty)
        #expect(!ingest.stderr.contains(Self.email), "a raw email in ingest's log")
    }

    @Test("normalize dead-letters a member whose hashed record would exceed --max-record-bytes, then goes on")
    func normalizeMovesOn() async throws {
        let admin = try KafkaAdmin(configuration: Self.kafka, logger: logger)
        try Self.createInternalTopics(admin)
        // Normalize starts at the end of `members`, so it does not hash the whole shared backlog again.
        let normalize = try ChildProcess(
            try BuildProducts.executable("cohortsync-normalize"),
            ["--group", TestBroker.uniqueName("normalize"), "--http-host", "127.0.0.1", "--http-port", "0", "--max-record-bytes", "16384"],
            environment: try Self.environment().merging(["KAFKA_AUTO_OFFSET_RESET": "latest"]) { $1 })
        defer { normalize.stop() }
        let port = try await normalize.listeningPort()
        try await waitFor("normalize to own its partitions", timeout: .seconds(30)) {
            (try? await HTTPProbe.get("http://127.0.0.1:\(port)/readyz").status) == 200
        }
        let tail = try await TopicTail([TopicNames.hashed, TopicNames.deadLetters], fromEnd: true, logger: logger)
        let producer = try KafkaProducer(configuration: Self.kafka, logger: logger)
        // Normalize and the tail both start at the end. A consumer at `latest` fixes its start offset a moment after it is assigned, and a record produced in
        // that moment is never read: each round sends the pair again under a trace of its own until one round's
        // output is seen. Every round is the same pair, so whichever is seen answers the question.
        var observed: (records: [ConsumerRecord], traceTopic: String, offsets: [Int64])?
        for _ in 0..<10 where observed == nil {
            let traceTopic = TestBroker.uniqueName("injected")
            var offsets: [Int64] = []
            for (index, userKey) in [String(repeating: "k", count: 20_000), "u_fine"].enumerated() {
                let change = MemberChange(audienceID: "aud_x", userKey: userKey, action: .enter, identifiers: RawIdentifiers(email: "ok@example.com"))
                let headers = RecordHeaders.kafkaHeaders(for: MemberRecord.self, trace: SourcePosition(topic: traceTopic, partition: 0, offset: Int64(index)))
                let report = try await producer.send(ProducerRecord(
                    topic: TopicNames.members, key: Array("aud_x/\(userKey)".utf8), value: MemberRecord.change(change).serializedBytes(), headers: headers,
                    placement: .partition(0))).acknowledged()
                offsets.append(report.offset)
            }
            let oversized = SourcePosition(topic: TopicNames.members, partition: 0, offset: offsets[0])
            let records = try? await tail.wait(for: "normalize's output for both records", timeout: .seconds(6)) { records in
                records.contains { Self.trace(of: $0)?.topic == traceTopic }
                    && records.contains { $0.topic == TopicNames.deadLetters && Self.trace(of: $0) == oversized }
            }
            if let records { observed = (records, traceTopic, offsets) }
        }
        try await producer.shutdown()
        await tail.close()
        let (records, traceTopic, offsets) = try #require(observed, "normalize never answered the pair in ten rounds")
        let oversized = SourcePosition(topic: TopicNames.members, partition: 0, offset: offsets[0])
        let letter = try DeadLetter(serializedBytes: try #require(records.first { $0.topic == TopicNames.deadLetters && Self.trace(of: $0) == oversized }).value)
        #expect(letter.reason == "too-large")
        #expect(letter.detail.contains("at most 16384"))
        // The oversized member is never hashed by this normalize (the DLQ says so); the next one is.
        let hashed = records.filter { $0.topic == TopicNames.hashed && Self.trace(of: $0)?.topic == traceTopic }
        #expect(hashed.contains { Self.trace(of: $0)?.offset == 1 }, "the member after the oversized one is hashed")
        let letters = records.filter { $0.topic == TopicNames.deadLetters && Self.trace(of: $0)?.topic == TopicNames.members }
        #expect(!letters.contains { Self.trace(of: $0)?.offset == offsets[1] && Self.trace(of: $0)?.partition == 0 }, "the fitting member is not dead-lettered")
        #expect(normalize.isRunning, "normalize keeps running:\n\(normalize.stderr.suffix(2000))")
    }

    static func createInternalTopics(_ admin: KafkaAdmin) throws {
        for topic in TopicLayout(memberPartitions: 4, batchPartitions: 2).topics {
            _ = try admin.createTopic(TopicSpecification(name: topic.name, partitions: topic.partitions, configuration: topic.compacted ? ["cleanup.policy": "compact"] : [:]))
        }
    }

    static func environment() throws -> [String: String] {
        let path = NSTemporaryDirectory() + TestBroker.uniqueName("config") + ".json"
        try TestConfigs.standard.write(toFile: path, atomically: true, encoding: .utf8)
        return ["KAFKA_BROKERS": TestBroker.bootstrapServers, "COHORTSYNC_CONFIG": path].merging(TestBroker.stageEnvironment) { $1 }
    }

    static func trace(of record: ConsumerRecord) -> SourcePosition? {
        record.headers.string(named: RecordHeaders.traceName).flatMap(RecordHeaders.parseTrace)
    }

    static func traced(_ records: [ConsumerRecord], to topic: String) -> Set<Int64> {
        Set(records.compactMap { trace(of: $0) }.filter { $0.topic == topic }.map(\.offset))
    }
}
