// cohortsync-ingest: wires options, configuration, Kafka and the IngestProcessor; nothing more.
import Foundation
import Kafka
import Runtime
import Stage
import Wire

let spec = CommandLineSpec(
    executable: "cohortsync-ingest",
    summary: "Reads upstream audience events (CohortSync native JSON, Segment audience events) and writes them to \(TopicNames.members).",
    options: [
        OptionSpec(
            "topics", environment: "COHORTSYNC_UPSTREAM_TOPICS", help: "Comma-separated upstream topics to read.", isRequired: true)
    ] + StageOptions.options(defaultGroup: "cohortsync-ingest") + ServiceSettings.options(defaultHTTPPort: 9101))
let startup = StageStartup(spec: spec, stage: "ingest")
let logger = startup.logger
let metrics = MetricsRegistry()
let health = HealthState()
let topics = (startup.options.string("topics") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }

do {
    let admin = try KafkaAdmin(configuration: startup.kafka, logger: logger)
    let partitions = startup.partitionCount(of: TopicNames.members, admin: admin)
    let producer = try KafkaProducer(configuration: startup.kafka, logger: logger)
    let consumer = try KafkaConsumer(
        configuration: KafkaConsumerConfiguration(groupID: startup.options.string("group")!, topics: topics, kafka: startup.kafka), logger: logger)
    let processor = IngestProcessor(config: startup.config, memberPartitions: partitions, metrics: metrics, logger: logger)
    let service = ProcessingService(
        name: "ingest", loop: ProcessingLoop(consumer: consumer, logger: logger),
        hooks: .init(assigned: { _ in health.setReady(true) }, revoked: { processor.revoked($0) })
    ) { record in
        let started = ContinuousClock.now
        let (records, outcome) = processor.process(record)
        IngestMetrics.count(outcome, metrics: metrics)
        let deliveries = try await producer.sendAll(records)
        metrics.counter("cohortsync_ingest_produced_total", help: "Records written to members and the DLQ.").increment(by: Int64(records.count))
        IngestMetrics.observe(since: started, metrics: metrics)
        return deliveries
    }
    let http = ObservabilityServer.service(host: startup.settings.httpHost, port: startup.settings.httpPort, metrics: metrics, health: health, logger: logger)
    try await ServiceGroup(services: [http, service], gracePeriod: startup.settings.gracePeriod, logger: logger).run()
    try await producer.shutdown()
} catch {
    logger.error("ingest stopped", [("error", .string(String(describing: error)))])
    exit(1)
}
