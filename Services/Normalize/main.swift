// cohortsync-normalize: wires options, configuration, Kafka and the NormalizeProcessor; nothing more.
import Foundation
import Kafka
import NormalizeCore
import Observability
import Runtime
import Stage
import Wire

let spec = CommandLineSpec(
    executable: "cohortsync-normalize",
    summary: "Normalizes and SHA-256 hashes identifiers per connection, reading \(TopicNames.members) and writing \(TopicNames.hashed).",
    options: StageOptions.options(defaultGroup: "cohortsync-normalize") + ServiceSettings.options(defaultHTTPPort: 9102))
let startup = StageStartup(spec: spec, stage: "normalize")
let metrics = MetricsRegistry()
let admin = startup.makeAdmin()
let members = startup.partitionCount(of: TopicNames.members, admin: admin)
if let mismatch = PartitionAlignment.mismatch(members: members, hashed: startup.partitionCount(of: TopicNames.hashed, admin: admin)) {
    CommandLineEntry.fail(spec.executable, mismatch, status: 78)
}
let processor = NormalizeProcessor(config: startup.config, recordLimit: startup.recordLimit)
let counters = NormalizeMetrics(metrics: metrics)
await startup.runConsumingStage(topics: [TopicNames.members], metrics: metrics, health: HealthState()) { batch, out in
    processor.process(batch, into: &out, counting: counters)
}
