import Foundation
import Kafka
import Observability
import TestSupport
import Testing

/// The acceptance test of at-least-once consumption across a member's death: two members of a group in
/// separate processes, one SIGKILLed halfway through 200,000 keyed records.
///
/// Two brokers, because they recover differently. librdkafka's mock cluster (hosted by the test process,
/// reached over TCP like any broker) expires the dead member's session, and the survivor takes over its
/// partitions. The local broker (noida-db 0.2.3) never expires a dead member, so the group waits for it; there
/// the killed member is replaced by a new process with the same `group.instance.id` (static membership,
/// KIP-345), as a restarted Kubernetes pod would be. Both must lose nothing and keep per-key order.
@Suite("Consumer group member killed mid-stream", .serialized, .timeLimit(.minutes(10)))
struct GroupTakeoverTests {
    static let keys = 1_000
    static let recordsPerKey = 200
    static let partitions: Int32 = 6
    static let total = keys * recordsPerKey
    let logger = Logger(stage: "group-takeover-test", minimumLevel: .warning)

    @Test("mock cluster: the survivor takes over the SIGKILLed member's partitions; nothing lost, per-key order kept")
    func survivorTakesOver() async throws {
        let cluster = try KafkaMockCluster()
        let topic = TestBroker.uniqueName("takeover")
        try cluster.createTopic(topic, partitions: Self.partitions)
        let run = try await TakeoverRun(topic: topic, bootstrap: cluster.bootstrapServers, logger: logger)

        let memberA = try run.startMember("a")
        defer { memberA.stop() }
        try await run.waitForProgress(of: ["a"], atLeast: 10_000)
        let memberB = try run.startMember("b")
        defer { memberB.stop() }
        try await run.waitUntilBothOwnPartitions("a", "b", processed: Self.total / 2)
        memberA.send(SIGKILL)
        #expect(await memberA.waitForExit(timeout: .seconds(10)) != nil)

        // On a fast machine A may have finished its partitions before it died, so coverage alone proves no
        // takeover: wait for the takeover itself, once the group has expired A's session.
        try await waitFor("member B to own every partition", timeout: .seconds(60)) {
            run.log("b").lastAssignment == Set(0..<Self.partitions)
        }
        try await run.waitForCoverage(of: ["a", "b"])
        memberB.send(SIGTERM)
        #expect(await memberB.waitForExit(timeout: .seconds(10)) == 0, "member B did not exit cleanly:\n\(memberB.stderr.suffix(3000))")
        run.verify(["a", "b"], title: "mock cluster takeover")
    }

    @Test("local broker: a SIGKILLed member replaced under its group.instance.id; nothing lost, per-key order kept")
    func replacementResumes() async throws {
        let kafka = KafkaConfiguration(properties: ["bootstrap.servers": TestBroker.bootstrapServers])
        let topic = TestBroker.uniqueName("takeover")
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        #expect(try admin.createTopic(TopicSpecification(name: topic, partitions: Self.partitions)) == .created)
        #expect(try admin.partitionCount(of: topic) == Int(Self.partitions))
        let run = try await TakeoverRun(topic: topic, bootstrap: TestBroker.bootstrapServers, logger: logger)

        let memberA = try run.startMember("a", instance: "a")
        defer { memberA.stop() }
        try await run.waitForProgress(of: ["a"], atLeast: 10_000)
        let memberB = try run.startMember("b", instance: "b")
        defer { memberB.stop() }
        try await run.waitUntilBothOwnPartitions("a", "b", processed: Self.total / 2)
        memberA.send(SIGKILL)
        #expect(await memberA.waitForExit(timeout: .seconds(10)) != nil)
        let replacement = try run.startMember("a2", instance: "a")
        defer { replacement.stop() }

        try await run.waitForCoverage(of: ["a", "b", "a2"])
        for member in [memberB, replacement] {
            member.send(SIGTERM)
            #expect(await member.waitForExit(timeout: .seconds(10)) == 0, "a member did not exit cleanly:\n\(member.stderr.suffix(3000))")
        }
        #expect(!(run.log("a2").lastAssignment ?? []).isEmpty, "the replacement should have taken the killed member's partitions")
        run.verify(["a", "b", "a2"], title: "local broker replacement")
    }
}

/// One test run: the topic filled with 200,000 records, members started as child processes, their logs.
struct TakeoverRun {
    let topic: String
    let group: String
    let bootstrap: String
    let directory = NSTemporaryDirectory()

    /// Produces key `k<i>` with sequence numbers 0..<200 in order; the idempotent producer keeps that order.
    init(topic: String, bootstrap: String, logger: Logger) async throws {
        self.topic = topic
        self.group = TestBroker.uniqueName("takeover-group")
        self.bootstrap = bootstrap
        let producer = try KafkaProducer(configuration: KafkaConfiguration(properties: ["bootstrap.servers": bootstrap]), logger: logger)
        var deliveries: [PendingDelivery] = []
        deliveries.reserveCapacity(GroupTakeoverTests.total)
        for sequence in 0..<GroupTakeoverTests.recordsPerKey {
            for key in 0..<GroupTakeoverTests.keys {
                deliveries.append(try await producer.send(ProducerRecord(topic: topic, key: Array("k\(key)".utf8), value: Array("\(sequence)".utf8))))
            }
        }
        for delivery in deliveries { _ = try await delivery.acknowledged() }
        try await producer.shutdown()
    }

    func path(_ member: String) -> String { directory + "\(group)-\(member).log" }
    func log(_ member: String) -> MemberLog { MemberLog(path(member)) }

    func startMember(_ member: String, instance: String? = nil) throws -> ChildProcess {
        var environment = ["KAFKA_BROKERS": bootstrap, "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"]
        if let instance { environment["KAFKA_GROUP_INSTANCE_ID"] = "\(group)-\(instance)" }
        return try ChildProcess(
            try BuildProducts.executable("KafkaGroupMember"),
            ["--topic", topic, "--group", group, "--output", path(member), "--http-port", "0", "--processing-delay-us", "50"],
            environment: environment)
    }

    func waitForProgress(of members: [String], atLeast count: Int) async throws {
        try await waitFor("\(count) records processed", timeout: .seconds(90)) {
            members.reduce(0) { $0 + log($1).records.count } >= count
        }
    }

    func waitUntilBothOwnPartitions(_ first: String, _ second: String, processed: Int) async throws {
        try await waitFor("both members to own partitions and \(processed) records to be processed", timeout: .seconds(120)) {
            let a = log(first)
            let b = log(second)
            return !(a.lastAssignment ?? []).isEmpty && !(b.lastAssignment ?? []).isEmpty && a.records.count + b.records.count >= processed
        }
    }

    func waitForCoverage(of members: [String]) async throws {
        try await waitFor("every record to be processed", timeout: .seconds(240)) {
            members.reduce(into: Set<MemberLog.Record>()) { $0.formUnion(log($1).distinct) }.count == GroupTakeoverTests.total
        }
    }

    /// No record lost, per-key order within every assignment of every member; prints the duplicate count.
    func verify(_ members: [String], title: String) {
        let logs = members.map(log)
        let processed = logs.reduce(0) { $0 + $1.records.count }
        let distinct = logs.reduce(into: Set<MemberLog.Record>()) { $0.formUnion($1.distinct) }
        #expect(distinct.count == GroupTakeoverTests.total, "records lost: \(GroupTakeoverTests.total - distinct.count)")
        for (member, log) in zip(members, logs) {
            #expect(log.orderViolations.isEmpty, "member \(member) broke per-key order: \(log.orderViolations.prefix(5))")
        }
        let perMember = zip(members, logs).map { "\($0)=\($1.records.count)" }.joined(separator: " ")
        print("\(title): \(GroupTakeoverTests.total) records, \(processed) processed, \(processed - distinct.count) duplicates (\(perMember))")
    }
}

/// What a `KafkaGroupMember` wrote: `A <partitions>` per assignment and `R <partition> <offset> <key> <sequence>` per record.
struct MemberLog {
    struct Record: Hashable {
        let key: String
        let sequence: Int
    }

    var records: [Record] = []
    var assignments: [Set<Int32>] = []
    /// Per-key breaks of order: within one assignment a key's next record must be its previous sequence + 1.
    var orderViolations: [String] = []

    init(_ path: String) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        var last: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.first == "A" {
                assignments.append(Set((fields.count > 1 ? fields[1].split(separator: ",") : []).compactMap { Int32($0) }))
                last = [:]
            } else if fields.first == "R", fields.count == 5, let sequence = Int(fields[4]) {
                let key = String(fields[3])
                if let previous = last[key], sequence != previous + 1 {
                    orderViolations.append("\(key): \(previous) then \(sequence)")
                }
                last[key] = sequence
                records.append(Record(key: key, sequence: sequence))
            }
        }
    }

    var distinct: Set<Record> { Set(records) }
    var lastAssignment: Set<Int32>? { assignments.last }
}

func waitFor(_ what: String, timeout: Duration, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TestSupportError("timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(200))
    }
}
