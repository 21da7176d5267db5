@testable import Kafka
import Observability
import Stage
import Synchronization
import TestSupport
import Testing

/// The idle fetch pause: on a broker that answers an empty fetch at once, a caught-up member pauses a
/// partition after each empty fetch at its end instead of fetching it in a loop, and misses nothing for it.
@Suite("The idle fetch pause", .timeLimit(.minutes(2)))
struct IdleFetchPauseTests {
    let logger = Logger(stage: "idle-pause-tests", minimumLevel: .error)

    /// Records `0..<count` of `partition`, values `"partition/index"`.
    func produce(_ cluster: KafkaMockCluster, _ topic: String, partition: Int32, _ indices: Range<Int>) async throws {
        let producer = try KafkaProducer(configuration: cluster.configuration, logger: logger)
        var out = OutgoingRecords()
        for index in indices {
            out.append(ProducerRecord(topic: topic, key: nil, value: Array("\(partition)/\(index)".utf8), placement: .partition(partition)))
        }
        try await producer.deliver(out)
        try await producer.shutdown()
    }

    /// A member of its own group; it asks the mock cluster to answer an empty fetch after 1 ms, as the local
    /// broker answers at once (the mock holds one for `fetch.wait.max.ms` like Apache Kafka).
    func consumer(_ cluster: KafkaMockCluster, _ topic: String, pause: Duration?) throws -> KafkaConsumer {
        var kafka = cluster.configuration
        kafka.properties["fetch.wait.max.ms"] = "1"
        var configuration = KafkaConsumerConfiguration(groupID: topic, topics: [topic], kafka: kafka, maxBatchRecords: 50)
        configuration.idleFetchPause = pause
        return try KafkaConsumer(configuration: configuration, logger: logger)
    }

    /// How many of `samples` samples, 5 ms apart, found any partition of `consumer` paused for being idle.
    func idleSamples(_ consumer: KafkaConsumer, samples: Int) async throws -> Int {
        var idle = 0
        for _ in 0..<samples {
            if !consumer.core.idlePausedPartitions.isEmpty { idle += 1 }
            try await Task.sleep(for: .milliseconds(5))
        }
        return idle
    }

    /// The indices the records carry (values `"partition/index"`), per partition, in the order handled.
    final class Received: Sendable {
        private let indices = Mutex<[Int32: [Int]]>([:])

        func note(_ batch: ConsumerBatch) {
            indices.withLock { indices in
                for record in batch {
                    indices[record.partition, default: []].append(Int(String(decoding: record.value, as: UTF8.self).split(separator: "/")[1])!)
                }
            }
        }

        func of(_ partition: Int32) -> [Int] { indices.withLock { $0[partition] ?? [] } }
        var count: Int { indices.withLock { $0.values.reduce(0) { $0 + $1.count } } }
    }

    /// A consumer's processing loop running, and what it received.
    struct Member {
        let received: Received
        let loop: ProcessingLoop
        let running: Task<Void, any Error>

        /// Runs `consumer`'s loop, noting every batch after `perRecord` of work for each of its records.
        init(_ consumer: KafkaConsumer, logger: Logger, perRecord: Duration = .zero) {
            let loop = ProcessingLoop(consumer: consumer, logger: logger)
            let received = Received()
            self.received = received
            self.loop = loop
            running = Task {
                try await loop.run { batch, _ in
                    if perRecord > .zero { try await Task.sleep(for: perRecord * batch.count) }
                    received.note(batch)
                }
            }
        }

        func stop() async throws {
            loop.stop()
            try await running.value
        }
    }

    @Test("bursts with idle gaps between them arrive exactly once and in order, and a caught-up member spends its gaps paused")
    func burstsArriveOnce() async throws {
        let topic = "idle-bursts"
        let cluster = try KafkaMockCluster()
        try cluster.createTopic(topic, partitions: 2)
        let consumer = try consumer(cluster, topic, pause: .milliseconds(100))
        let member = Member(consumer, logger: logger)
        var idleDuringGaps: [Int] = []
        for burst in 0..<4 {
            let indices = burst * 150..<(burst + 1) * 150
            for partition in Int32(0)..<2 { try await produce(cluster, topic, partition: partition, indices) }
            try await waitUntil { member.received.count >= 2 * indices.upperBound }
            idleDuringGaps.append(try await idleSamples(consumer, samples: 60))
        }
        try await member.stop()
        #expect(member.received.of(0) == Array(0..<600), "partition 0: records lost, repeated or out of order across idle pauses")
        #expect(member.received.of(1) == Array(0..<600), "partition 1: records lost, repeated or out of order across idle pauses")
        #expect(idleDuringGaps.count == 4)
        for (burst, idle) in idleDuringGaps.enumerated() {
            // Each idle pause is followed by a fetch (a few milliseconds on the mock cluster) that finds nothing.
            #expect(idle >= 20, "after burst \(burst) the caught-up member was paused in only \(idle) of 60 samples")
        }
    }

    /// Writes 30 records one at a time, 10 to 120 ms apart, to a member that idles between them, and returns
    /// how long each took from its write (the producer's round trip included) to the handler, sorted.
    func idleLatencies(kafka: KafkaConfiguration, topic: String, pause: Duration) async throws -> [Duration] {
        var configuration = KafkaConsumerConfiguration(groupID: topic, topics: [topic], kafka: kafka)
        configuration.idleFetchPause = pause
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let loop = ProcessingLoop(consumer: consumer, logger: logger)
        let taken = Mutex<[Int: ContinuousClock.Instant]>([:])
        let running = Task {
            try await loop.run { batch, _ in
                let now = ContinuousClock.now
                taken.withLock { taken in
                    for record in batch { taken[Int(String(decoding: record.value, as: UTF8.self))!] = now }
                }
            }
        }
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        func write(_ index: Int) async throws {
            var out = OutgoingRecords()
            out.append(ProducerRecord(topic: topic, key: nil, value: Array("\(index)".utf8), placement: .partition(0)))
            try await producer.deliver(out)
        }
        // A first record, not measured, connects the producer to the broker.
        try await write(-1)
        try await waitUntil { taken.withLock { $0[-1] != nil } }
        try await waitUntil { !consumer.core.idlePausedPartitions.isEmpty }
        var written: [Int: ContinuousClock.Instant] = [:]
        var generator = SystemRandomNumberGenerator()
        for index in 0..<30 {
            try await Task.sleep(for: .milliseconds(Int.random(in: 10...120, using: &generator)))
            written[index] = .now
            try await write(index)
        }
        try await waitUntil { taken.withLock { $0.count } >= 31 }
        try await producer.shutdown()
        loop.stop()
        try await running.value
        let times = taken.withLock { $0 }
        return try (0..<30).map { index in try #require(times[index]) - #require(written[index]) }.sorted()
    }

    @Test("a record written while the member idles is taken within about one idle pause: a resumed partition is fetched at once, not at librdkafka's next wake-up a second later")
    func idleRecordsTakenPromptly() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("idle-latency", partitions: 1)
        var kafka = cluster.configuration
        kafka.properties["fetch.wait.max.ms"] = "1"
        let latencies = try await idleLatencies(kafka: kafka, topic: "idle-latency", pause: .milliseconds(50))
        print("idle pause 50 ms, mock cluster: write to handler median \(latencies[15]), slowest \(latencies[29])")
        #expect(latencies.count == 30)
        // Without the wake-up after a resume: a median of 559 – 686 ms and a slowest of about a second.
        #expect(latencies[15] < .milliseconds(200), "median \(latencies[15]), slowest \(latencies[29])")
        #expect(latencies[29] < .seconds(2), "median \(latencies[15]), slowest \(latencies[29])")
    }

    @Test("local broker: the same on the broker that answers an empty fetch at once, the one the setting is for")
    func idleRecordsTakenPromptlyOnLocalBroker() async throws {
        let kafka = KafkaConfiguration(properties: ["bootstrap.servers": TestBroker.bootstrapServers])
        let topic = TestBroker.uniqueName("idle-latency")
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        #expect(try admin.createTopic(TopicSpecification(name: topic, partitions: 1)) == .created)
        let latencies = try await idleLatencies(kafka: kafka, topic: topic, pause: .milliseconds(50))
        print("idle pause 50 ms, local broker: write to handler median \(latencies[15]), slowest \(latencies[29])")
        #expect(latencies.count == 30)
        // Without the wake-up after a resume: a median of 559 – 686 ms and a slowest of about a second.
        #expect(latencies[15] < .milliseconds(200), "median \(latencies[15]), slowest \(latencies[29])")
        #expect(latencies[29] < .seconds(2), "median \(latencies[15]), slowest \(latencies[29])")
    }

    @Test("with back-pressure pausing and resuming a slow reader between idle pauses, every record arrives once and in order")
    func backPressureBetweenIdlePauses() async throws {
        let lines = Mutex<[String]>([])
        let logger = Logger(stage: "idle-pause-tests", minimumLevel: .info, sink: LogSink { line in lines.withLock { $0.append(line) } })
        let topic = "idle-back-pressure"
        let cluster = try KafkaMockCluster()
        try cluster.createTopic(topic, partitions: 2)
        var kafka = cluster.configuration
        kafka.properties["fetch.wait.max.ms"] = "1"
        var configuration = KafkaConsumerConfiguration(
            groupID: topic, topics: [topic], kafka: kafka, maxBufferedRecords: 40, maxBatchRecords: 10, maxPollHold: .milliseconds(100))
        configuration.idleFetchPause = .milliseconds(30)
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let member = Member(consumer, logger: logger, perRecord: .milliseconds(10))
        for burst in 0..<3 {
            let indices = burst * 100..<(burst + 1) * 100
            for partition in Int32(0)..<2 { try await produce(cluster, topic, partition: partition, indices) }
            try await waitUntil { member.received.count >= 2 * indices.upperBound }
            try await waitUntil { !consumer.core.idlePausedPartitions.isEmpty }
        }
        try await member.stop()
        #expect(member.received.of(0) == Array(0..<300))
        #expect(member.received.of(1) == Array(0..<300))
        let behind = lines.withLock { $0 }.filter { $0.contains("partitions paused while polling goes on") }
        #expect(behind.count >= 3, "back-pressure paused the partitions \(behind.count) times; the test needs it once per burst")
    }

    @Test("a broker that answers slowly holds up only the wake-up sent to it, not the partitions of another broker")
    func slowBrokerDoesNotHoldPolling() async throws {
        let topic = "idle-slow-broker"
        let cluster = try KafkaMockCluster(brokers: 2)
        try cluster.createTopic(topic, partitions: 2)
        cluster.setLeader(topic, partition: 0, broker: 1)
        cluster.setLeader(topic, partition: 1, broker: 2)
        cluster.setCoordinator(group: topic, broker: 1)
        let consumer = try consumer(cluster, topic, pause: .milliseconds(100))
        let member = Member(consumer, logger: logger)
        let fast = TopicPartition(topic: topic, partition: 0)
        let slow = TopicPartition(topic: topic, partition: 1)
        try await produce(cluster, topic, partition: 0, 0..<5)
        try await produce(cluster, topic, partition: 1, 0..<5)
        try await waitUntil { member.received.count >= 10 }
        // Only the slow broker's partition idles, so the wake-up after its idle pause goes to the slow broker.
        consumer.pause([fast])
        try await waitUntil { consumer.core.idlePausedPartitions == [slow] }
        cluster.setRoundTripTime(.seconds(6), broker: 2)
        try await waitUntil { !consumer.core.idlePausedPartitions.contains(slow) }
        consumer.resume([fast])
        let written = ContinuousClock.now
        try await produce(cluster, topic, partition: 0, 5..<10)
        try await waitUntil(timeout: .seconds(20)) { member.received.of(0).count >= 10 }
        let took = ContinuousClock.now - written
        cluster.setRoundTripTime(.zero, broker: 2)
        try await member.stop()
        #expect(member.received.of(0) == Array(0..<10))
        // A poll thread waiting on the wake-up would have taken them only after the slow broker's 6 s answer.
        #expect(took < .seconds(3), "records of the fast broker took \(took)")
    }

    @Test("a partition the stage pauses while it is paused for being idle stays paused past the idle pause, until the stage resumes it")
    func stagePauseTakesOver() async throws {
        let topic = "idle-stage-pause"
        let cluster = try KafkaMockCluster()
        try cluster.createTopic(topic, partitions: 1)
        // Long enough that it cannot end between seeing the idle pause and the stage's pause below.
        let consumer = try consumer(cluster, topic, pause: .seconds(2))
        let member = Member(consumer, logger: logger)
        try await produce(cluster, topic, partition: 0, 0..<20)
        try await waitUntil { member.received.count >= 20 }
        let partition = TopicPartition(topic: topic, partition: 0)
        try await waitUntil { consumer.core.idlePausedPartitions.contains(partition) }
        consumer.pause([partition])
        #expect(consumer.core.idlePausedPartitions.isEmpty)
        try await produce(cluster, topic, partition: 0, 20..<40)
        // Past the end of the idle pause, which must not resume what the stage paused.
        try await Task.sleep(for: .milliseconds(2_500))
        #expect(member.received.count == 20, "records of a partition the stage paused were fetched")
        consumer.resume([partition])
        try await waitUntil { member.received.count >= 40 }
        try await member.stop()
        #expect(member.received.of(0) == Array(0..<40))
    }
}
