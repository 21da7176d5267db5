import Foundation
import Kafka
import Observability
import Stage
import TestSupport
import Testing
import Wire

/// `cohortsync audiences list` and `cohortsync dlq list|replay` on the local broker, with records only this
/// test writes (its own connection ids), so other tests' letters and mappings never count.
@Suite("Operator CLI: audiences, the dead-letter queue and scratch topics")
struct OperatorCLITests {
    let logger = Logger(stage: "cli-test", minimumLevel: .error)

    @Test("audiences list shows the latest mapping of each key and leaves out a key whose latest record is a tombstone")
    func audiencesList() async throws {
        try createInternalTopics()
        let connection = TestBroker.uniqueName("cli-aud")
        var out = OutgoingRecords()
        let headers = out.standardHeaders(for: AudienceMapping.self, trace: SourcePosition(topic: "test", partition: 0, offset: 0))
        func mapping(_ audience: String, _ id: String, deleted: Bool = false) -> AudienceMapping {
            AudienceMapping(
                connectionID: connection, audienceID: audience, destination: .x, destinationAudienceID: id, name: "Name of \(audience)",
                createdAtMilliseconds: 1_795_000_000_000, deleted: deleted || id.isEmpty, createIntent: id.isEmpty)
        }
        out.append(mapping("a1", "first"), topic: TopicNames.audiences, placement: .byKey, headers: headers, key: Array("\(connection)/a1".utf8))
        out.append(mapping("a1", "second", deleted: true), topic: TopicNames.audiences, placement: .byKey, headers: headers, key: Array("\(connection)/a1".utf8))
        out.append(mapping("a2", "gone"), topic: TopicNames.audiences, placement: .byKey, headers: headers, key: Array("\(connection)/a2".utf8))
        out.appendTombstone(topic: TopicNames.audiences) { $0.append(contentsOf: "\(connection)/a2".utf8) }
        out.append(mapping("a3", ""), topic: TopicNames.audiences, placement: .byKey, headers: headers, key: Array("\(connection)/a3".utf8))
        try await deliver(out)

        let rows = try await cli(["audiences", "list", "--json"]).filter { $0["connection"] == connection }
        #expect(rows.count == 2, "\(rows)")
        #expect(rows.first { $0["audience"] == "a3" }?["state"] == "creating", "a create intent without its destination audience yet")
        let row = try #require(rows.first { $0["audience"] == "a1" })
        #expect(row["audience"] == "a1")
        #expect(row["destination_audience"] == "second")
        #expect(row["state"] == "deleted")
        #expect(row["created"] == "2026-11-18T11:06:40Z")

        let table = try await run(["audiences", "list"])
        let line = try #require(table.split(separator: "\n").first { $0.hasPrefix(connection) })
        #expect(line.split(separator: " ", omittingEmptySubsequences: true).map(String.init).prefix(5) == [connection, "a1", "-", "x", "second"])
    }

    @Test("dlq list marks only retries-exhausted and unknown-connection batches replayable; dlq replay sends them back keyed by audience, cut to what the batcher still intends")
    func deadLetters() async throws {
        try createInternalTopics()
        let connection = TestBroker.uniqueName("cli-dlq")
        func user(_ key: String, _ byte: UInt8) -> BatchUser {
            BatchUser(userKey: key, identifiers: [HashedIdentifier(type: .email, sha256: Array(repeating: byte, count: 32))])
        }
        // u1 is still a member with the same digest; u2 left after the batch failed; u3 changed identifiers.
        let batch = Batch(
            batchID: "b-\(connection)", connectionID: connection, audienceID: "aud_cli", audienceName: "CLI audience", destination: .x, operation: .add,
            users: [user("u1", 1), user("u2", 2), user("u3", 3)])
        var refused = batch
        refused.batchID = "refused-\(connection)"
        var out = OutgoingRecords()
        out.append(DeadLetter(
            stage: "upload-x", reason: "retries-exhausted", source: SourcePosition(topic: TopicNames.batchesX, partition: 1, offset: 42),
            errorCode: "503", detail: "8 attempts failed", occurredAtMilliseconds: 1_795_000_000_000, payloadType: Batch.protoName, payload: batch.serializedBytes()))
        out.append(DeadLetter(
            stage: "upload-x", reason: "refused-by-destination", source: SourcePosition(topic: TopicNames.batchesX, partition: 1, offset: 43),
            errorCode: "INVALID_USER_DATA", detail: "1 of 1 refused", occurredAtMilliseconds: 1_795_000_000_001, payloadType: Batch.protoName,
            payload: refused.serializedBytes()))
        let stateHeaders = out.standardHeaders(for: BatcherState.self, trace: SourcePosition(topic: "test", partition: 0, offset: 0))
        for (key, byte) in [("u1", UInt8(1)), ("u3", UInt8(9))] {
            var stateKey: [UInt8] = []
            BatcherState.memberKey(connectionID: connection, audienceID: "aud_cli", userKey: key, into: &stateKey)
            let state = BatcherState.member(MemberState(
                connectionID: connection, audienceID: "aud_cli", userKey: key, sent: [HashedIdentifier(type: .email, sha256: Array(repeating: byte, count: 32))]))
            out.append(state, topic: TopicNames.batcherState, placement: .partition(0), headers: stateHeaders, key: stateKey)
        }
        try await deliver(out)

        let rows = try await cli(["dlq", "list", "--json", "--connection", connection])
        #expect(rows.count == 2, "\(rows)")
        #expect(rows.map { $0["reason"] } == ["retries-exhausted", "refused-by-destination"])
        #expect(rows.map { $0["replayable"] } == ["yes", "no"])
        #expect(rows.first?["source"] == "\(TopicNames.batchesX)[1]@42")
        #expect(rows.first?["users"] == "3")
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(try await run(["dlq", "list", "--json", "--connection", connection]).utf8)) as? [[String: Any]])
        #expect(raw.first?["users"] as? Int == 3, "users is a number in JSON")

        let dryRun = try await run(["dlq", "replay", "--connection", connection, "--dry-run"])
        #expect(dryRun.contains("would replay 1 of 2 matching letters · 1 to \(TopicNames.batchesX)"), "\(dryRun)")
        #expect(dryRun.contains("left out 1: not replayable"), "\(dryRun)")

        let tail = try await TopicTail([TopicNames.batchesX], fromEnd: true, logger: logger)
        let replayed = try await run(["dlq", "replay", "--connection", connection, "--reason", "retries-exhausted"])
        #expect(replayed.contains("replayed 1 of 1 matching letters"), "\(replayed)")
        let records = try await tail.wait(for: "the replayed batch") { records in
            records.contains { String(decoding: $0.key ?? [], as: UTF8.self) == "\(connection)/aud_cli" }
        }
        await tail.close()
        let mine = records.filter { String(decoding: $0.key ?? [], as: UTF8.self) == "\(connection)/aud_cli" }
        #expect(mine.count == 1)
        var expected = batch
        expected.users = [user("u1", 1)]
        #expect(try Batch(serializedBytes: try #require(mine.first).value) == expected, "only u1 still holds what the batch adds")
    }

    @Test("topics delete removes scratch topics (exit 0), refuses the pipeline's own and reports unknown names (exit 1), trying every name")
    func topicsDelete() async throws {
        try createInternalTopics()
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(properties: ["bootstrap.servers": TestBroker.bootstrapServers]), logger: logger)
        let scratch = [TestBroker.uniqueName("cli-scratch"), TestBroker.uniqueName("cli-scratch")]
        for name in scratch { #expect(try admin.createTopic(TopicSpecification(name: name, partitions: 2)) == .created) }
        for name in scratch { #expect(try admin.partitionCount(of: name) == 2) }
        func delete(_ names: [String]) async throws -> (status: Int32?, output: String) {
            let child = try ChildProcess(
                try BuildProducts.executable("cohortsync"), ["topics", "delete"] + names, environment: ["KAFKA_BROKERS": TestBroker.bootstrapServers])
            let status = await child.waitForExit(timeout: .seconds(60))
            return (status, child.stdout + child.stderr)
        }

        let alone = try await delete([scratch[0]])
        #expect(alone.status == 0, "\(alone.output)")
        #expect(alone.output.contains("deleted  \(scratch[0])"))

        // A refused and an unknown name first: the scratch topic after them is deleted all the same.
        let never = TestBroker.uniqueName("cli-never-created")
        let mixed = try await delete([TopicNames.members, never, scratch[1]])
        #expect(mixed.status == 1, "a name not deleted fails the command: \(mixed.output)")
        #expect(mixed.output.contains("refused  \(TopicNames.members)"))
        #expect(mixed.output.contains("unknown  \(never)"))
        #expect(mixed.output.contains("deleted  \(scratch[1])"))

        // A deletion completes on the broker's time: wait for it, within a bound.
        let deadline = ContinuousClock.now + .seconds(30)
        while try scratch.contains(where: { try admin.partitionCount(of: $0) != nil }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        for name in scratch { #expect(try admin.partitionCount(of: name) == nil, "\(name) is still there") }
        #expect(try admin.partitionCount(of: TopicNames.members) != nil)
    }

    /// The internal topics with the layout every suite uses, before anything is written to them: on a fresh
    /// broker a write would otherwise create a topic with one partition, out of line with the others.
    func createInternalTopics() throws {
        try IngestNormalizeTests.createInternalTopics(try KafkaAdmin(configuration: KafkaConfiguration(properties: ["bootstrap.servers": TestBroker.bootstrapServers]), logger: logger))
    }

    func deliver(_ records: OutgoingRecords) async throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(properties: ["bootstrap.servers": TestBroker.bootstrapServers]), logger: logger)
        try await producer.deliver(records)
        try await producer.shutdown()
    }

    func run(_ arguments: [String]) async throws -> String {
        let child = try ChildProcess(try BuildProducts.executable("cohortsync"), arguments, environment: ["KAFKA_BROKERS": TestBroker.bootstrapServers])
        // The commands read whole topics of the shared broker, which other suites fill at the same time.
        let status = await child.waitForExit(timeout: .seconds(240))
        #expect(status == 0, "cohortsync \(arguments.joined(separator: " ")): \(child.stderr)")
        return child.stdout
    }

    func cli(_ arguments: [String]) async throws -> [[String: String]] {
        try Self.rows(fromJSON: try await run(arguments))
    }

    /// A listing's `--json` output with every value as the table shows it: null as "-", numbers as digits.
    /// Throws unless it is an array of objects whose values are strings, whole numbers or null.
    static func rows(fromJSON output: String) throws -> [[String: String]] {
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]], "not a JSON array of objects: \(output)")
        return try objects.map { object in
            try object.mapValues { value in
                switch value {
                case is NSNull: return "-"
                case let text as String: return text
                case let number as NSNumber where number.doubleValue == number.doubleValue.rounded(): return String(number.intValue)
                default: throw TestSupportError("\(value) is neither text, a whole number nor null")
                }
            }
        }
    }
}
