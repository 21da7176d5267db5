import Kafka
import Observability
import Stage
import Synchronization
import Testing

/// Producer, consumer and processing loop against librdkafka's in-process mock cluster.
@Suite("Kafka wrapper on the mock cluster", .timeLimit(.minutes(2)))
struct MockClusterTests {
    let logger = Logger(stage: "kafka-tests", minimumLevel: .error)

    /// A mock cluster whose `topic` of `partitions` partitions holds `count` records valued "0", "1", …,
    /// record `i` on partition `i % partitions`, every one acknowledged.
    func filledCluster(topic: String, partitions: Int32, records count: Int) async throws -> KafkaMockCluster {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic(topic, partitions: partitions)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        for index in 0..<count {
            _ = try await producer.send(ProducerRecord(topic: topic, key: nil, value: Array("\(index)".utf8), placement: .partition(Int32(index) % partitions)))
        }
        try await producer.shutdown()
        return cluster
    }

    @Test("records with keys and headers arrive intact, each delivery is acknowledged with an offset")
    func roundTrip() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("round-trip", partitions: 3)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        var deliveries: [PendingDelivery] = []
        for index in 0..<300 {
            deliveries.append(
                try await producer.send(
                    ProducerRecord(
                        topic: "round-trip", key: Array("user-\(index % 17)".utf8), value: Array("value-\(index)".utf8),
                        headers: [KafkaHeader(name: "cohortsync-schema", string: "1"), KafkaHeader(name: "empty", value: nil)])))
        }
        var offsets: Set<String> = []
        for delivery in deliveries {
            let report = try await delivery.acknowledged()
            offsets.insert("\(report.partition)/\(report.offset)")
        }
        #expect(offsets.count == 300)
        try await producer.shutdown()

        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "round-trip-group", topics: ["round-trip"], kafka: cluster.configuration),
            logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger)
        let seen = Mutex<[String: [Int]]>([:])
        let running = Task {
            try await loop.run { batch, _ in
                for record in batch {
                    #expect(record.headerString(named: "cohortsync-schema") == "1")
                    #expect(record.headers.contains(KafkaHeader(name: "empty", value: nil)))
                    #expect(record.header(named: "empty") == .some(nil))
                    let key = String(decoding: record.key ?? [], as: UTF8.self)
                    let index = Int(String(decoding: record.value, as: UTF8.self).dropFirst("value-".count))!
                    seen.withLock { $0[key, default: []].append(index) }
                }
            }
        }
        try await waitUntil { seen.withLock { $0.values.reduce(0) { $0 + $1.count } } >= 300 }
        loop.stop()
        try await running.value
        let byKey = seen.withLock { $0 }
        #expect(byKey.values.reduce(0) { $0 + $1.count } == 300)
        for (key, indexes) in byKey {
            #expect(indexes == indexes.sorted(), "per-key order broken for \(key)")
        }
    }

    @Test("offsets are stored only after produced records are acknowledged, and a restarted member resumes after them")
    func storesAfterAcknowledgement() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("in", partitions: 2)
        try cluster.createTopic("out", partitions: 2)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        for index in 0..<100 {
            _ = try await producer.send(ProducerRecord(topic: "in", key: Array("k\(index)".utf8), value: Array("\(index)".utf8)))
        }

        func consumeOnce(expecting count: Int, total: Int) async throws -> Int {
            let consumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(groupID: "stage", topics: ["in"], kafka: cluster.configuration), logger: logger)
            let loop = ProcessingLoop(consumer: consumer, logger: logger)
            let handled = Atomic(0)
            let running = Task {
                try await loop.run { batch, completion in
                    var out = OutgoingRecords()
                    for record in batch { out.append(ProducerRecord(topic: "out", key: record.key, value: record.value)) }
                    handled.add(batch.count, ordering: .relaxed)
                    try await producer.send(out, completion: completion)
                }
            }
            try await waitUntil { handled.load(ordering: .relaxed) >= count }
            // Stop only once the group committed everything produced to `in` so far, so the next member's count
            // shows what was committed, not when the stop happened to land.
            let partitions = [TopicPartition(topic: "in", partition: 0), TopicPartition(topic: "in", partition: 1)]
            try await waitUntil {
                try? await consumer.commit()
                let committed = (try? await consumer.committed(partitions)) ?? [:]
                return committed.values.reduce(0) { $0 + max($1, 0) } == Int64(total)
            }
            loop.stop()
            try await running.value
            return handled.load(ordering: .relaxed)
        }

        #expect(try await consumeOnce(expecting: 100, total: 100) == 100)
        for index in 100..<110 {
            _ = try await producer.send(ProducerRecord(topic: "in", key: Array("k\(index)".utf8), value: Array("\(index)".utf8)))
        }
        // The second member of the same group sees only the 10 new records: the first stored and committed all 100.
        #expect(try await consumeOnce(expecting: 10, total: 110) == 10)
        try await producer.shutdown()
    }

    @Test("a handler failure ends the loop without storing its batch's offsets: the next member reads that batch again, nothing before it")
    func failureIsNotCommitted() async throws {
        let cluster = try await filledCluster(topic: "fragile", partitions: 1, records: 10)

        struct Refused: Error {}
        func member() throws -> ProcessingLoop {
            let consumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(
                    groupID: "fragile-group", topics: ["fragile"], kafka: cluster.configuration, maxBatchRecords: 2),
                logger: logger)
            return ProcessingLoop(consumer: consumer, logger: logger)
        }
        let failing = try member()
        let handled = Mutex<[Int]>([])
        let failedBatchStart = Mutex<Int?>(nil)
        await #expect(throws: Refused.self) {
            try await failing.run { batch, _ in
                for record in batch {
                    let value = Int(String(decoding: record.value, as: UTF8.self))!
                    handled.withLock { $0.append(value) }
                    if value == 4 {
                        failedBatchStart.withLock { $0 = Int(batch[batch.startIndex].offset) }
                        throw Refused()
                    }
                }
            }
        }
        #expect(handled.withLock { $0 } == [0, 1, 2, 3, 4])
        let start = try #require(failedBatchStart.withLock { $0 })
        #expect((3...4).contains(start), "batches of at most two records")

        let second = try member()
        let replayed = Mutex<[Int]>([])
        let running = Task {
            try await second.run { batch, _ in
                for record in batch { replayed.withLock { $0.append(Int(String(decoding: record.value, as: UTF8.self))!) } }
            }
        }
        try await waitUntil { replayed.withLock { $0.count } >= 10 - start }
        second.stop()
        try await running.value
        #expect(replayed.withLock { $0 } == Array(start..<10), "the failed batch and everything after it are processed again, nothing before it")
    }

    @Test("a paused partition delivers nothing while its neighbour delivers everything, until resumed; committed offsets are readable")
    func pauseResumeAndCommitted() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("pausable", partitions: 2)
        let paused = TopicPartition(topic: "pausable", partition: 0)
        let open = TopicPartition(topic: "pausable", partition: 1)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "pausable", topics: ["pausable"], kafka: cluster.configuration), logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger)
        let seen = Mutex([Int32: Int]())
        let assigned = Atomic(false)
        let running = Task {
            try await loop.run(hooks: .init(assigned: { _ in assigned.store(true, ordering: .relaxed) })) { batch, _ in
                seen.withLock { $0[batch[batch.startIndex].partition, default: 0] += batch.count }
            }
        }
        try await waitUntil { assigned.load(ordering: .relaxed) }
        #expect(Set(consumer.assignment) == [paused, open])
        consumer.pause([paused])
        for index in 0..<20 {
            for partition in [paused, open] {
                _ = try await producer.send(ProducerRecord(topic: "pausable", key: nil, value: Array("\(index)".utf8), placement: .partition(partition.partition)))
            }
        }
        try await producer.shutdown()
        // Everything written to the open partition arrives; what was written to the paused one alongside does not.
        try await waitUntil { seen.withLock { $0[open.partition] } == 20 }
        #expect(seen.withLock { $0[paused.partition] } == nil, "a paused partition must deliver nothing")
        consumer.resume([paused])
        try await waitUntil { seen.withLock { $0[paused.partition] } == 20 }
        // The last batch's offset is stored when its handler returns, just after the count is seen: commit until it is.
        try await waitUntil {
            try? await consumer.commit()
            return (try? await consumer.committed([paused, open])) == [paused: 20, open: 20]
        }
        loop.stop()
        try await running.value
    }

    @Test("a consumer that pauses new assignments fetches nothing of them while the assigned hook runs, then everything")
    func pausedWhileAssigning() async throws {
        let cluster = try await filledCluster(topic: "restoring", partitions: 2, records: 200)

        /// Runs a loop whose assigned hook holds until `release` says so, reporting what the poll thread
        /// buffered meanwhile; returns the records handled once the hook returned.
        func run(group: String, pauses: Bool, hold: @escaping @Sendable (KafkaConsumer) async throws -> Void) async throws -> Int {
            var configuration = KafkaConsumerConfiguration(groupID: group, topics: ["restoring"], kafka: cluster.configuration)
            configuration.pausesNewAssignments = pauses
            let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
            let loop = ProcessingLoop(consumer: consumer, logger: logger)
            let handled = Atomic(0)
            let running = Task {
                try await loop.run(hooks: .init(assigned: { _ in try await hold(consumer) })) { batch, _ in
                    handled.add(batch.count, ordering: .relaxed)
                }
            }
            try await waitUntil { handled.load(ordering: .relaxed) >= 200 }
            loop.stop()
            try await running.value
            return handled.load(ordering: .relaxed)
        }

        // The control: without the pause, the poll thread buffers records while the hook still runs.
        let fetchedWithin = Mutex<Duration?>(nil)
        let control = try await run(group: "restoring-control", pauses: false) { consumer in
            let started = ContinuousClock.now
            try await waitUntil { consumer.bufferedRecords > 0 }
            fetchedWithin.withLock { $0 = ContinuousClock.now - started }
        }
        #expect(control == 200)
        let window = try #require(fetchedWithin.withLock { $0 })

        // Paused: held for well past the time the control took to fetch, nothing is buffered; all arrives after.
        let bufferedWhileHeld = Atomic(-1)
        let paused = try await run(group: "restoring-paused", pauses: true) { consumer in
            try await Task.sleep(for: max(window * 5, .milliseconds(500)))
            bufferedWhileHeld.store(consumer.bufferedRecords, ordering: .relaxed)
        }
        #expect(bufferedWhileHeld.load(ordering: .relaxed) == 0, "records of a paused new assignment were fetched during the hook")
        #expect(paused == 200, "every record arrives once the hook returned")
    }

    @Test("resuming a partition that was never paused changes nothing: no record is handed out twice")
    func resumeWithoutPause() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("unpaused", partitions: 1)
        let partition = TopicPartition(topic: "unpaused", partition: 0)
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        for index in 0..<100 {
            _ = try await producer.send(ProducerRecord(topic: "unpaused", key: nil, value: Array("\(index)".utf8)))
        }
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "unpaused", topics: ["unpaused"], kafka: cluster.configuration), logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger)
        let values = Mutex<[Int]>([])
        let running = Task {
            try await loop.run { batch, _ in
                for record in batch { values.withLock { $0.append(Int(String(decoding: record.value, as: UTF8.self))!) } }
            }
        }
        try await waitUntil { values.withLock { $0.count } >= 100 }
        consumer.resume([partition])
        _ = try await producer.send(ProducerRecord(topic: "unpaused", key: nil, value: Array("100".utf8)))
        try await producer.shutdown()
        try await waitUntil { values.withLock { $0.last } == 100 }
        loop.stop()
        try await running.value
        #expect(values.withLock { $0 } == Array(0...100), "every record once, in order")
    }

    @Test("back-pressure: a slow handler still gets every record with a small buffer limit")
    func backPressure() async throws {
        let cluster = try await filledCluster(topic: "slow", partitions: 1, records: 2_000)
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(groupID: "slow", topics: ["slow"], kafka: cluster.configuration, maxBufferedRecords: 50),
            logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger)
        let values = Mutex<[Int]>([])
        let mostBuffered = Atomic(0)
        let running = Task {
            try await loop.run { batch, _ in
                #expect(batch.count <= 50, "a batch larger than the buffer limit")
                for record in batch {
                    mostBuffered.max(consumer.bufferedRecords, ordering: .relaxed)
                    if values.withLock({ $0.count }) % 200 == 0 { try await Task.sleep(for: .milliseconds(20)) }
                    values.withLock { $0.append(Int(String(decoding: record.value, as: UTF8.self))!) }
                }
            }
        }
        try await waitUntil { values.withLock { $0.count } >= 2_000 }
        loop.stop()
        try await running.value
        #expect(values.withLock { $0 } == Array(0..<2_000))
        #expect(mostBuffered.load(ordering: .relaxed) <= 50, "the poll thread ran ahead of the limit")
    }
}

/// Polls `condition` every 20 ms until it holds, failing after `timeout`. The condition may ask the broker.
func waitUntil(timeout: Duration = .seconds(60), _ condition: @Sendable () async -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(timeout)")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
