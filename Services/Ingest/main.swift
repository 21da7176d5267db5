// cohortsync-ingest: wires options, configuration, Kafka and the IngestProcessor; nothing more.
import Foundation
import IngestCore
import Kafka
import Observability
import Runtime
import Stage
import Wire

let spec = CommandLineSpec(
    executable: "cohortsync-ingest",
    summary: "Reads upstream audience events (CohortSync native JSON, Segment audience events) and writes them to \(TopicNames.members).",
    options: [
        OptionSpec("topics", environment: "COHORTSYNC_UPSTREAM_TOPICS", help: "Comma-separated upstream topics to read (required).")
    ] + StageOptions.options(defaultGroup: "cohortsync-ingest") + ServiceSettings.options(defaultHTTPPort: 9101))
let startup = StageStartup(spec: spec, stage: "ingest")
let metrics = MetricsRegistry()
let topics = (startup.options.string("topics") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
guard !topics.isEmpty else {
    CommandLineEntry.fail(spec.executable, "missing --topics or COHORTSYNC_UPSTREAM_TOPICS: the upstream topics to read, comma-separated", status: 64)
}
let admin = startup.makeAdmin()
let processor = IngestProcessor(
    config: startup.config, memberPartitions: startup.partitionCount(of: TopicNames.members, admin: admin), recordLimit: startup.recordLimit, metrics: metrics,
    logger: startup.logger)
let counters = IngestMetrics(metrics: metrics)
await startup.runConsumingStage(topics: topics, metrics: metrics, health: HealthState(), revoked: { processor.revoked($0) }) { batch, out in
    processor.process(batch, into: &out, counting: counters)
}
