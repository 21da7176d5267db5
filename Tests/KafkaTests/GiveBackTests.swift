import Kafka
import Observability
import Stage
import Synchronization
import Testing

/// The `revoking` hook of the stage contract: a stage whose work can wait for minutes gives its revoked
/// partitions back instead of holding the rebalance.
@Suite("Partitions given back at a revocation, on the mock cluster", .timeLimit(.minutes(2)))
struct GiveBackTests {
    let logger = Logger(stage: "give-back-tests", minimumLevel: .error)

    /// Member A holds every completion open for good (an uploader paused on a refused credential) and gives
    /// its partitions back when they are revoked (or, with `givesBack` false, does not). Returns how long A's
    /// first revocation held the rebalance (from the revocation's arrival to its completion, A's own clock,
    /// so the broker's join times under load do not count), and which records each member handled.
    func run(givesBack: Bool) async throws -> (held: Duration, handledByA: Int, handledByB: Set<String>) {
        let topic = "give-back"
        let cluster = try KafkaMockCluster()
        try cluster.createTopic(topic, partitions: 2)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        var out = OutgoingRecords()
        for index in 0..<100 {
            for partition in Int32(0)..<2 { out.append(ProducerRecord(topic: topic, key: nil, value: Array("\(index)".utf8), placement: .partition(partition))) }
        }
        try await producer.deliver(out)
        try await producer.shutdown()

        func member() throws -> ProcessingLoop {
            let consumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(groupID: topic, topics: [topic], kafka: cluster.configuration, maxBatchRecords: 10), logger: logger)
            return ProcessingLoop(consumer: consumer, logger: logger, limits: .init(drainTimeout: .seconds(1), revocationTimeout: .seconds(20)))
        }
        let handledByA = Atomic(0)
        let handledByB = Mutex(Set<String>())
        let a = try member()
        let revocation = Mutex<(began: ContinuousClock.Instant?, ended: ContinuousClock.Instant?)>((nil, nil))
        let hooksA = ProcessingLoop.PartitionHooks(
            revoking: { partitions, _ in
                revocation.withLock { if $0.began == nil { $0.began = .now } }
                return givesBack ? partitions : []
            },
            revoked: { _ in revocation.withLock { if $0.ended == nil { $0.ended = .now } } })
        let runningA = Task {
            try await a.run(hooks: hooksA) { batch, completion in
                completion.hold()
                handledByA.add(batch.count, ordering: .relaxed)
            }
        }
        try await waitUntil { handledByA.load(ordering: .relaxed) >= 20 }
        let b = try member()
        let runningB = Task {
            try await b.run { batch, _ in
                handledByB.withLock { $0.formUnion(batch.map { "\($0.partition)/\($0.offset)" }) }
            }
        }
        try await waitUntil(timeout: .seconds(90)) { handledByB.withLock { $0.count } >= 100 }
        try await waitUntil(timeout: .seconds(60)) { revocation.withLock { $0.ended != nil } }
        let held = revocation.withLock { times in times.ended.flatMap { end in times.began.map { end - $0 } } } ?? .seconds(-1)
        a.stop()
        b.stop()
        _ = try? await runningA.value
        try await runningB.value
        return (held, handledByA.load(ordering: .relaxed), handledByB.withLock { $0 })
    }

    @Test("partitions given back go at once though their completions never finish; nothing of them was stored, so their next owner handles them from the start; kept, they hold the revocation until its timeout")
    func givenBack() async throws {
        let given = try await run(givesBack: true)
        #expect(given.handledByA >= 20)
        // B owns at least one partition; every record of what it owns is handled from offset 0 (A stored nothing).
        let partitions = Set(given.handledByB.map { $0.split(separator: "/")[0] })
        #expect(!partitions.isEmpty)
        for partition in partitions {
            #expect(given.handledByB.contains("\(partition)/0"), "partition \(partition) did not start from its first record")
            #expect(given.handledByB.filter { $0.hasPrefix("\(partition)/") }.count == 100)
        }
        // The control: the same run with the partitions kept. The revocation then waits for A's held completions
        // until the loop's revocation timeout (20 s).
        let kept = try await run(givesBack: false)
        #expect(given.held >= .zero && given.held < .seconds(5), "the revocation waited for the held completions: \(given.held)")
        #expect(kept.held >= .seconds(15), "the control must wait for its completions, or the test above proves nothing: \(kept.held)")
    }
}
