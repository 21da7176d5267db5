import Foundation
import Kafka
import Observability
import TestSupport
import Testing
import Wire

/// The batcher as its own process on the local broker: exact operations, restarts from the changelog after
/// SIGKILL, two replicas sharing the partitions, and the whole of ingest → normalize → batcher checked
/// against a separate, simple model of the rules.
@Suite("Batcher on the local broker", .serialized, .timeLimit(.minutes(8)))
struct BatcherPipelineTests {
    let logger = Logger(stage: "batcher-test", minimumLevel: .warning)

    static func email(_ user: String, _ version: Int = 0) -> String { "\(user).v\(version)@example.com" }

    static func member(_ run: BatcherHarness, _ action: MemberAction, _ user: String, audience: String, emails: [String] = [])
        -> (partition: Int32, record: HashedRecord)
    {
        let identifiers = emails.map { HashedIdentifier(type: .email, sha256: ModelDestination.digest($0)) }
        let member = HashedMember(connectionID: run.xConnection, audienceID: run.audience(audience), userKey: user, action: action, identifiers: identifiers)
        return (partition(of: "\(run.audience(audience))/\(user)"), .member(member))
    }

    /// A stable partition per key, as a partitioner would give (which one does not matter, only that it stays).
    static func partition(of key: String) -> Int32 {
        Int32(key.utf8.reduce(UInt32(7)) { $0 &* 31 &+ UInt32($1) } % UInt32(BatcherHarness.partitions))
    }

    static func line(_ batch: Batch, _ user: BatchUser) -> String {
        let operation = batch.operation == .add ? "add" : "remove"
        return "\(operation) \(user.userKey) " + user.identifiers.map { ModelDestination.hex($0.sha256).prefix(8) }.joined(separator: " ")
    }

    static func short(_ email: String) -> String { String(ModelDestination.hex(ModelDestination.digest(email)).prefix(8)) }

    @Test("exact operations; a SIGKILLed batcher's replacement restores the changelog and repeats nothing")
    func exactOperationsAcrossSigkill() async throws {
        let run = try await BatcherHarness(audiences: ["aud"], logger: logger)
        let reader = try await BatchReader(connections: [run.xConnection], kafka: run.kafka, logger: logger)
        let first = try await run.start(instance: "a")
        defer { first.process.stop() }

        try await run.write([
            Self.member(run, .enter, "u1", audience: "aud", emails: [Self.email("u1")]),
            Self.member(run, .enter, "u2", audience: "aud", emails: [Self.email("u2")]),
            Self.member(run, .enter, "u3", audience: "aud", emails: [Self.email("u3")]),
        ])
        // Written to the changelog too: the operations are counted only once it is acknowledged.
        try await waitFor("three adds flushed with their changelog", timeout: .seconds(60)) {
            await BatcherHarness.metric("cohortsync_batcher_operations_total", labels: #"operation="add""#, port: first.port) == 3
        }
        first.process.send(SIGKILL)
        #expect(await first.process.waitForExit(timeout: .seconds(10)) != nil)

        try await run.write([
            Self.member(run, .enter, "u1", audience: "aud", emails: [Self.email("u1")]),
            Self.member(run, .enter, "u3", audience: "aud", emails: [Self.email("u3", 1)]),
            Self.member(run, .exit, "u2", audience: "aud"),
        ])
        let replacement = try await run.start(instance: "a")
        defer { replacement.process.stop() }
        let expected = [
            "add u1 \(Self.short(Self.email("u1")))", "add u2 \(Self.short(Self.email("u2")))", "add u3 \(Self.short(Self.email("u3")))",
            "remove u2 \(Self.short(Self.email("u2")))", "remove u3 \(Self.short(Self.email("u3")))", "add u3 \(Self.short(Self.email("u3", 1)))",
        ]
        try await reader.wait(for: "the replacement's operations") { _, batches in batches.reduce(0) { $0 + $1.users.count } >= expected.count }
        // A clean stop flushes whatever is left; then every batch ever written for this test is read.
        replacement.process.send(SIGTERM)
        #expect(await replacement.process.waitForExit(timeout: .seconds(20)) == 0, "the batcher did not exit cleanly:\n\(replacement.process.stderr.suffix(2000))")
        let lines = try await reader.settled().flatMap { batch in batch.users.map { Self.line(batch, $0) } }
        #expect(lines.sorted() == expected.sorted(), "exactly these operations, none repeated")
        // One user's changes keep their order: the old address goes before the new one comes.
        let removal = try #require(lines.firstIndex(of: expected[4]))
        let addition = try #require(lines.firstIndex(of: expected[5]))
        #expect(removal < addition)
        await reader.close()
    }

    /// A generated churn of `users` over `audiences` for the X connection, and the model's expectation: each
    /// user's last record decides what its audience holds.
    struct Churn {
        var records: [[(partition: Int32, record: HashedRecord)]] = []
        var expected: [String: Set<String>] = [:]

        init(_ run: BatcherHarness, audiences: [String], users: Int, rounds: Int, seed: UInt64) {
            var random = SeededRandom(seed: seed)
            var holds: [String: [String: String]] = [:]
            for _ in 0..<rounds {
                var round: [(partition: Int32, record: HashedRecord)] = []
                for user in 0..<users {
                    let name = "u\(user)"
                    let audience = audiences[Int(random.next() % UInt64(audiences.count))]
                    let key = "\(run.xConnection)/\(run.audience(audience))"
                    switch random.next() % 10 {
                    case 0..<6:
                        let email = BatcherPipelineTests.email(name, Int(random.next() % 3))
                        round.append(BatcherPipelineTests.member(run, .enter, name, audience: audience, emails: [email]))
                        holds[key, default: [:]][name] = email
                    case 6..<9:
                        round.append(BatcherPipelineTests.member(run, .exit, name, audience: audience))
                        holds[key]?[name] = nil
                    default:
                        round.append(BatcherPipelineTests.member(run, .consentWithdrawn, name, audience: audience))
                        holds[key]?[name] = nil
                    }
                }
                records.append(round)
            }
            for (key, members) in holds where !members.isEmpty {
                expected[key] = Set(members.values.map { ModelDestination.hex(ModelDestination.digest($0)) })
            }
        }
    }

    @Test("two replicas share the partitions; one is SIGKILLed mid-run and replaced: the model destination ends exactly right")
    func twoReplicasOneKilled() async throws {
        let run = try await BatcherHarness(audiences: ["a", "b", "c"], logger: logger)
        let reader = try await BatchReader(connections: [run.xConnection], kafka: run.kafka, logger: logger)
        let churn = Churn(run, audiences: ["a", "b", "c"], users: 1_500, rounds: 4, seed: 7)
        #expect(churn.expected.values.reduce(0) { $0 + $1.count } > 500)
        let first = try await run.start(instance: "a")
        defer { first.process.stop() }
        let second = try await run.start(instance: "b")
        defer { second.process.stop() }
        try await run.write(churn.records[0])
        try await run.write(churn.records[1])
        // Mid-run: some batches out, and the first replica still owns partitions.
        try await reader.wait(for: "the first batches") { _, batches in batches.count >= 3 }
        first.process.send(SIGKILL)
        #expect(await first.process.waitForExit(timeout: .seconds(10)) != nil)
        try await run.write(churn.records[2])
        let replacement = try await run.start(instance: "a")
        defer { replacement.process.stop() }
        try await run.write(churn.records[3])

        let expected = churn.expected
        do {
            try await reader.wait(for: "the model destination to equal the expectation") { model, _ in model.audiences == expected }
        } catch {
            Issue.record("the model destination differs: \(ModelDestination(try await reader.settled()).difference(from: expected))")
            for (name, process) in [("first", first.process), ("second", second.process), ("replacement", replacement.process)] {
                let lines = process.stderr.split(separator: "\n").filter { !$0.contains("librdkafka") }.suffix(40)
                Issue.record("\(name):\n\(lines.joined(separator: "\n"))")
            }
            throw error
        }
        for process in [second.process, replacement.process] {
            process.send(SIGTERM)
            #expect(await process.waitForExit(timeout: .seconds(20)) == 0, "a batcher did not exit cleanly:\n\(process.stderr.suffix(2000))")
        }
        let model = ModelDestination(try await reader.settled())
        #expect(model.audiences == expected, "still exact once every batch is read")
        print("two replicas, one killed: \(model.batches) batches, \(expected.values.reduce(0) { $0 + $1.count }) digests expected")
        await reader.close()
    }
}
