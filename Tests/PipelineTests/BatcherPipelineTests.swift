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
        let churn = Churn(run, audiences: ["a", "b", "c"], users: 1_500, rounds: 4, seed: 7)
        // Static members: the local broker never expires a killed member's session, so its replacement takes
        // its place under the same group.instance.id, as a restarted pod would (docs/development.md).
        try await checkReplicas(run, churn) { write in
            let first = try await run.start(instance: "a")
            let second = try await run.start(instance: "b")
            try await write(0, 2)
            first.process.send(SIGKILL)
            #expect(await first.process.waitForExit(timeout: .seconds(10)) != nil)
            try await write(2, 3)
            let replacement = try await run.start(instance: "a")
            try await write(3, 4)
            return [second.process, replacement.process]
        }
    }

    @Test("two replicas share the partitions; one stops mid-run and its partitions move to the other with work in flight: the model destination ends exactly right")
    func replicaStoppedMidRun() async throws {
        let run = try await BatcherHarness(audiences: ["a", "b", "c"], logger: logger)
        let churn = Churn(run, audiences: ["a", "b", "c"], users: 1_500, rounds: 4, seed: 13)
        try await checkReplicas(run, churn) { write in
            let first = try await run.start()
            let second = try await run.start()
            try await write(0, 2)
            second.process.send(SIGTERM)
            try await write(2, 4)
            #expect(await second.process.waitForExit(timeout: .seconds(30)) == 0, "the stopped replica did not exit cleanly:\n\(second.process.stderr.suffix(2000))")
            return [first.process]
        }
    }

    /// Runs `scenario` (which starts replicas and writes rounds `from..<to` of `churn` through the closure it
    /// gets), then checks the model destination against the churn's expectation, before and after the
    /// remaining replicas stop.
    func checkReplicas(
        _ run: BatcherHarness, _ churn: Churn,
        _ scenario: (_ write: (Int, Int) async throws -> Void) async throws -> [ChildProcess]
    ) async throws {
        let reader = try await BatchReader(connections: [run.xConnection], kafka: run.kafka, logger: logger)
        #expect(churn.expected.values.reduce(0) { $0 + $1.count } > 500)
        let running = try await scenario { from, to in
            for round in from..<to { try await run.write(churn.records[round]) }
            if from == 0 { try await reader.wait(for: "the first batches") { _, batches in batches.count >= 3 } }
        }
        defer { running.forEach { $0.stop() } }
        let expected = churn.expected
        do {
            try await reader.wait(for: "the model destination to equal the expectation") { model, _ in model.audiences == expected }
        } catch {
            Issue.record("the model destination differs: \(ModelDestination(try await reader.settled()).difference(from: expected))")
            throw error
        }
        for process in running {
            process.send(SIGTERM)
            #expect(await process.waitForExit(timeout: .seconds(20)) == 0, "a batcher did not exit cleanly:\n\(process.stderr.suffix(2000))")
        }
        let model = ModelDestination(try await reader.settled())
        #expect(model.audiences == expected, "still exact once every batch is read")
        print("replicas: \(model.batches) batches, \(expected.values.reduce(0) { $0 + $1.count }) digests expected")
        await reader.close()
    }

    /// What the CDP says, kept by the simplest rules: per audience, each present user's email and IDFA.
    struct Truth {
        var members: [String: [String: [String]]] = [:]
        var deleted: Set<String> = []

        /// Per (connection, audience): the digests both connections should hold (they forward the same kinds
        /// and normalize these lowercase values the same way).
        func expected(_ run: BatcherHarness) -> [String: Set<String>] {
            var expected: [String: Set<String>] = [:]
            for (audience, users) in members where !deleted.contains(audience) && !users.isEmpty {
                let digests = Set(users.values.flatMap { $0 }.map { ModelDestination.hex(ModelDestination.digest($0)) })
                for connection in [run.xConnection, run.tiktokConnection] { expected["\(connection)/\(audience)"] = digests }
            }
            return expected
        }
    }

    @Test("ingest, normalize and the batcher as processes: snapshots, churn, consent withdrawals, a second snapshot and a deletion end as a simple model says")
    func modelCheckThroughThreeStages() async throws {
        let run = try await BatcherHarness(audiences: ["a", "b"], maxRemovalFraction: 0.5, logger: logger)
        let (a, b) = (run.audience("a"), run.audience("b"))
        let admin = try KafkaAdmin(configuration: run.kafka, logger: logger)
        let upstream = TestBroker.uniqueName("cdp")
        #expect(try admin.createTopic(TopicSpecification(name: upstream, partitions: 2)) == .created)
        let normalizeGroup = TestBroker.uniqueName("normalize")
        try await TopicEnds.startGroup(normalizeGroup, atEndOf: TopicNames.members, kafka: run.kafka, logger: logger)
        let reader = try await BatchReader(connections: [run.xConnection, run.tiktokConnection], kafka: run.kafka, logger: logger)
        let normalize = try ChildProcess(
            try BuildProducts.executable("cohortsync-normalize"), ["--group", normalizeGroup, "--http-host", "127.0.0.1", "--http-port", "0"],
            environment: run.environment)
        defer { normalize.stop() }
        let ingest = try ChildProcess(
            try BuildProducts.executable("cohortsync-ingest"),
            ["--topics", upstream, "--group", TestBroker.uniqueName("ingest"), "--http-host", "127.0.0.1", "--http-port", "0"], environment: run.environment)
        defer { ingest.stop() }
        let batcher = try await run.start()
        defer { batcher.process.stop() }

        var random = SeededRandom(seed: 11)
        var truth = Truth()
        func identifiers(_ user: Int, version: Int) -> (json: String, values: [String]) {
            let email = Self.email("u\(user)", version)
            guard user % 3 == 0 else { return (#""email":"\#(email)""#, [email]) }
            let idfa = String(format: "%08x-%04x-4%03x-8%03x-%012llx", user, version, user % 4096, version % 4096, UInt64(user) * 7919 + 1)
            return (#""email":"\#(email)","idfa":"\#(idfa)""#, [email, idfa])
        }
        func send(_ lines: [(audience: String, json: String)]) async throws {
            let producer = try KafkaProducer(configuration: run.kafka, logger: logger)
            var out = OutgoingRecords()
            for line in lines { out.append(ProducerRecord(topic: upstream, key: Array(line.audience.utf8), value: Array(line.json.utf8))) }
            try await producer.deliver(out)
            try await producer.shutdown()
        }
        func snapshot(_ audience: String, _ id: String, users: [Int: Int]) -> [(audience: String, json: String)] {
            var lines = [(audience, #"{"type":"snapshot_begin","audience":{"id":"\#(audience)","name":"Audience \#(audience)"},"snapshot":"\#(id)"}"#)]
            for (user, version) in users.sorted(by: { $0.key < $1.key }) {
                lines.append((audience, #"{"type":"snapshot_member","audience":{"id":"\#(audience)"},"snapshot":"\#(id)","user":{"id":"u\#(user)",\#(identifiers(user, version: version).json)}}"#))
            }
            lines.append((audience, #"{"type":"snapshot_end","audience":{"id":"\#(audience)"},"snapshot":"\#(id)","members":\#(users.count)}"#))
            return lines
        }
        func waitForModel(_ what: String) async throws {
            let expected = truth.expected(run)
            do {
                try await reader.wait(for: what, timeout: .seconds(180)) { model, _ in model.audiences == expected }
            } catch {
                Issue.record("\(what): \(ModelDestination(try await reader.settled()).difference(from: expected))")
                throw error
            }
        }

        // 1. A snapshot of each audience; the users in both are the ones whose consent is withdrawn later.
        var versions: [String: [Int: Int]] = [a: [:], b: [:]]
        for user in 0..<200 { versions[a]![user] = 0 }
        for user in 100..<300 { versions[b]![user] = 0 }
        try await send(snapshot(a, "s1", users: versions[a]!) + snapshot(b, "s1", users: versions[b]!))
        for audience in [a, b] { truth.members[audience] = versions[audience]!.reduce(into: [:]) { $0["u\($1.key)"] = identifiers($1.key, version: $1.value).values } }
        try await waitForModel("the first snapshots")

        // 2. Real-time churn: enters (often with a changed email), exits, and consent withdrawn for users of both audiences.
        var churn: [(audience: String, json: String)] = []
        let withdrawn = Array(stride(from: 100, to: 200, by: 5))
        for user in withdrawn {
            churn.append((a, #"{"type":"membership","audience":{"id":"\#(a)"},"action":"enter","user":{"id":"u\#(user)",\#(identifiers(user, version: 0).json)},"consent":{"ads":false}}"#))
            for audience in [a, b] { truth.members[audience]!["u\(user)"] = nil }
        }
        for _ in 0..<400 {
            var user = Int(random.next() % 350)
            if withdrawn.contains(user) { user += 1 }
            let audience = random.next() % 2 == 0 ? a : b
            if random.next() % 3 == 0 {
                churn.append((audience, #"{"type":"membership","audience":{"id":"\#(audience)"},"action":"exit","user":{"id":"u\#(user)"}}"#))
                truth.members[audience]!["u\(user)"] = nil
            } else {
                let version = Int(random.next() % 4)
                let ids = identifiers(user, version: version)
                churn.append((audience, #"{"type":"membership","audience":{"id":"\#(audience)"},"action":"enter","user":{"id":"u\#(user)",\#(ids.json)}}"#))
                truth.members[audience]!["u\(user)"] = ids.values
                versions[audience]![user] = version
            }
        }
        try await send(churn)
        try await waitForModel("the churn")

        // 3. A second snapshot of `a` without about 15 % of its members, and `b` deleted upstream.
        let present = truth.members[a]!.keys.compactMap { Int($0.dropFirst()) }.sorted()
        let kept = present.filter { $0 % 7 != 3 }
        #expect(present.count - kept.count > present.count / 10, "the second snapshot removes members")
        try await send(snapshot(a, "s2", users: Dictionary(uniqueKeysWithValues: kept.map { ($0, versions[a]![$0] ?? 0) }))
            + [(b, #"{"type":"audience","audience":{"id":"\#(b)"},"action":"deleted"}"#)])
        truth.members[a] = truth.members[a]!.filter { kept.contains(Int($0.key.dropFirst())!) }
        truth.deleted.insert(b)
        try await waitForModel("the second snapshot and the deletion")

        for process in [ingest, normalize, batcher.process] {
            process.send(SIGTERM)
            #expect(await process.waitForExit(timeout: .seconds(20)) == 0, "a stage did not exit cleanly:\n\(process.stderr.suffix(2000))")
        }
        let model = ModelDestination(try await reader.settled())
        #expect(model.audiences == truth.expected(run), "still exact once every batch is read: \(model.difference(from: truth.expected(run)))")
        #expect(model.deleted == ["\(run.xConnection)/\(b)", "\(run.tiktokConnection)/\(b)"])
        #expect(model.operationsAfterDelete == 0, "nothing is sent for a deleted audience")
        print("three stages: \(model.batches) batches; \(truth.expected(run).values.reduce(0) { $0 + $1.count }) digests expected")
        await reader.close()
    }

    @Test("a removal over maxRemovalFraction is held and shown by `cohortsync holds list`; `holds confirm` reaches the batcher as a record and applies it")
    func heldRemovalConfirmedWithTheCommandLine() async throws {
        let run = try await BatcherHarness(audiences: ["aud"], maxRemovalFraction: 0.5, logger: logger)
        let reader = try await BatchReader(connections: [run.xConnection], kafka: run.kafka, logger: logger)
        let batcher = try await run.start()
        defer { batcher.process.stop() }
        // All members on partition 0, the snapshot markers on every partition, as normalize writes them.
        func onPartitionZero(_ record: (partition: Int32, record: HashedRecord)) -> (partition: Int32, record: HashedRecord) { (0, record.record) }
        try await run.write((0..<10).map { onPartitionZero(Self.member(run, .enter, "u\($0)", audience: "aud", emails: [Self.email("u\($0)")])) })
        try await reader.wait(for: "ten adds") { model, _ in model.audiences.values.first?.count == 10 }
        let audience = run.audience("aud")
        let marker = { (phase: SnapshotPhase) in (0..<BatcherHarness.partitions).map { (Int32($0), HashedRecord.snapshot(SnapshotMarker(audienceID: audience, snapshotID: "s1", phase: phase, complete: true))) } }
        try await run.write(marker(.begin) + (0..<4).map { onPartitionZero(Self.member(run, .snapshotMember, "u\($0)", audience: "aud", emails: [Self.email("u\($0)")])) } + marker(.end))
        try await waitFor("the hold to show in /metrics", timeout: .seconds(60)) {
            await BatcherHarness.metric("cohortsync_batcher_holds", labels: "audience=\"\(audience)\"", port: batcher.port) == 1
        }
        let cli = try BuildProducts.executable("cohortsync")
        var listed = ""
        try await waitFor("`cohortsync holds list` to show the hold", timeout: .seconds(60)) {
            guard let list = try? ChildProcess(cli, ["holds", "list"], environment: run.environment),
                await list.waitForExit(timeout: .seconds(60)) == 0
            else { return false }
            listed = list.stdout
            return listed.contains(audience)
        }
        let row = listed.split(separator: "\n").first { $0.contains(audience) }
        #expect(row.map(String.init) == "\(run.xConnection)\t\(audience)\ts1\t1\t6", "holds list: \(listed)")
        // Nothing is removed while held.
        #expect(ModelDestination(try await reader.settled()).audiences.values.first?.count == 10)

        let confirm = try ChildProcess(cli, ["holds", "confirm", "--connection", run.xConnection, "--audience", audience, "--snapshot", "s1"], environment: run.environment)
        #expect(await confirm.waitForExit(timeout: .seconds(60)) == 0, "\(confirm.stderr)")
        let expected = Set((0..<4).map { ModelDestination.hex(ModelDestination.digest(Self.email("u\($0)"))) })
        try await reader.wait(for: "the confirmed removal") { model, _ in model.audiences.values.first == expected }
        try await waitFor("the hold to clear", timeout: .seconds(30)) {
            await BatcherHarness.metric("cohortsync_batcher_holds", labels: "audience=\"\(audience)\"", port: batcher.port) == 0
        }
        await reader.close()
    }
}
