// cohortsync-normalize: wires options, configuration, Kafka and the NormalizeProcessor; nothing more.
import Foundation
import Kafka
import Runtime
import Stage
import Wire

let spec = CommandLineSpec(
    executable: "cohortsync-normalize",
    summary: "Normalizes and SHA-256 hashes identifiers per connection, reading \(TopicNames.members) and writing \(TopicNames.hashed).",
    options: StageOptions.options(defaultGroup: "cohortsync-normalize") + ServiceSettings.options(defaultHTTPPort: 9102))
let startup = StageStartup(spec: spec, stage: "normalize")
let logger = startup.logger
let metrics = MetricsRegistry()
let health = HealthState()

do {
    let admin = try KafkaAdmin(configuration: startup.kafka, logger: logger)
    let members = startup.partitionCount(of: TopicNames.members, admin: admin)
    let hashed = startup.partitionCount(of: TopicNames.hashed, admin: admin)
    if let mismatch = PartitionAlignment.mismatch(members: members, hashed: hashed) {
        CommandLineEntry.fail(spec.executable, mismatch, status: 78)
    }
    let producer = try KafkaProducer(configuration: startup.kafka, logger: logger)
    let consumer = try KafkaConsumer(
        configuration: KafkaConsumerConfiguration(groupID: startup.options.string("group")!, topics: [TopicNames.members], kafka: startup.kafka),
        logger: logger)
    let processor = NormalizeProcessor(config: startup.config)
    let service = ProcessingService(
        name: "normalize", loop: ProcessingLoop(consumer: consumer, logger: logger), hooks: .init(assigned: { _ in health.setReady(true) })
    ) { record in
        let started = ContinuousClock.now
        let (records, outcome, refusals) = processor.process(record)
        NormalizeMetrics.count(outcome, identifierRefusals: refusals, metrics: metrics)
        let deliveries = try await producer.sendAll(records)
        metrics.counter("cohortsync_normalize_produced_total", help: "Records written to hashed and the DLQ.").increment(by: Int64(records.count))
        NormalizeMetrics.observe(since: started, metrics: metrics)
        return deliveries
    }
    let http = ObservabilityServer.service(host: startup.settings.httpHost, port: startup.settings.httpPort, metrics: metrics, health: health, logger: logger)
    try await ServiceGroup(services: [http, service], gracePeriod: startup.settings.gracePeriod, logger: logger).run()
    try await producer.shutdown()
} catch {
    logger.error("normalize stopped", [("error", .string(String(describing: error)))])
    exit(1)
}
